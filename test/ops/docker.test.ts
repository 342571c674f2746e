import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// `yaml` comes with @fastify/swagger (a runtime dependency); it is not a direct dependency of this project.
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { EnvSchema } from '../../src/config.js';

const DOCKER_DIR = join(import.meta.dirname, '../../docker');
const compose = parse(readFileSync(join(DOCKER_DIR, 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, { image?: string; command?: string[]; environment?: Record<string, string>; healthcheck?: { test?: string[]; disable?: boolean }; deploy?: { replicas?: number }; depends_on?: Record<string, { condition: string }> }>;
  volumes: Record<string, unknown>;
};
const dockerfile = readFileSync(join(DOCKER_DIR, 'Dockerfile'), 'utf8');

/** `docker compose` (plugin) or the standalone `docker-compose`, when this machine has one. */
function composeCommand(): string[] | null {
  if (spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0) return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0) return ['docker-compose'];
  return null;
}

describe('Docker image and compose file', () => {
  it('when the Dockerfile is read, then it is multi-stage on node:20-slim, runs as a non-root user and checks /healthz', () => {
    expect(dockerfile.match(/^FROM node:20-slim AS \w+/gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK[\s\S]*\/healthz/m);
  });

  it('when compose.yaml is parsed, then it has postgres, redis, two web replicas and a worker, with health checks and dependencies', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['postgres', 'redis', 'web', 'worker']);
    const { postgres, redis, web, worker } = compose.services;
    expect(postgres?.healthcheck?.test?.join(' ')).toContain('pg_isready');
    expect(redis?.healthcheck?.test?.join(' ')).toContain('ping');
    expect(web?.deploy?.replicas).toBe(2);
    expect(web?.command).toEqual(['web']);
    expect(web?.healthcheck?.test?.join(' ')).toContain('/healthz');
    expect(worker?.command).toEqual(['worker']);
    for (const app of [web, worker]) {
      expect(app?.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
      expect(app?.environment?.['DATABASE_URL']).toMatch(/@postgres:5432\//);
      expect(app?.environment?.['REDIS_URL']).toBe('redis://redis:6379');
    }
  });

  it('when compose.yaml sets service variables, then every one is a variable of the contract', () => {
    // The contract's variables, plus Node's own runtime options.
    const known = new Set([...Object.keys(EnvSchema.shape), 'NODE_OPTIONS']);
    const names = [...new Set(['web', 'worker'].flatMap((s) => Object.keys(compose.services[s]?.environment ?? {})))];
    expect(names.filter((n) => !known.has(n))).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'BOARDROLL_MASTER_KEY', 'WECHAT_TOKEN', 'SMS_UPLINK_TOKEN']));
  });

  const command = composeCommand();
  it.skipIf(command === null)('when docker compose validates the file, then it passes', () => {
    const [bin = 'docker', ...args] = command ?? [];
    const res = spawnSync(bin, [...args, '-f', join(DOCKER_DIR, 'compose.yaml'), 'config', '--quiet'], { encoding: 'utf8' });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
  });
});

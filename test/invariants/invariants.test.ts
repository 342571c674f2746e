import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildRegistry } from '../../src/engine/registry.js';
import { createTranslator, loadCatalogs } from '../../src/i18n/i18n.js';
import { LOCALES_DIR } from '../../src/services.js';
import { PARSERS } from '../../src/conversation/parsers.js';
import { ALL_FLOWS } from '../../flows/all-flows.js';

const ROOT = resolve(import.meta.dirname, '../..');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const SOURCES = ['src', 'flows', 'workers'].flatMap((d) => filesUnder(join(ROOT, d)));
const IMPORT = /(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => resolve(dirname(file), (m[1] ?? m[2] ?? '').replace(/\.js$/, '.ts')));
}

describe('invariants', () => {
  it('when every flow is loaded with the real locales, then every step, parser and text resolves', () => {
    const translator = createTranslator(loadCatalogs(LOCALES_DIR));
    const both = new Set(translator.keys('zh-CN').filter((k) => translator.has('en', k)));
    const actions = new Set(['loadTrip', 'loadSavedProfile', 'matchPreregistration', 'registerPassenger', 'createTrip', 'loadLastTrip', 'requireStaff', 'requireStationStaff', 'loadRoster', 'markArrivals', 'enrollStaff', 'sendSmsInvite']);
    expect(() => buildRegistry(ALL_FLOWS, { parsers: PARSERS, actions, hasKey: (k) => both.has(k) })).not.toThrow();
  });

  it('when the locales are compared, then zh-CN and en hold the same keys with the same placeholders', () => {
    const translator = createTranslator(loadCatalogs(LOCALES_DIR));
    const zh = translator.keys('zh-CN').sort();
    const en = translator.keys('en').sort();
    expect(en).toEqual(zh);
    const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of zh) expect([key, placeholders(translator.t('en', key))]).toEqual([key, placeholders(translator.t('zh-CN', key))]);
  });

  it('when the engine is imported, then it reaches no I/O module', () => {
    const banned = /from\s+['"](fastify|bullmq|ioredis|pg|@electric-sql\/pglite|drizzle-orm[^'"]*|node:fs[^'"]*|node:net|node:http)['"]/;
    for (const file of filesUnder(join(ROOT, 'src/engine'))) expect([relative(ROOT, file), banned.test(readFileSync(file, 'utf8'))]).toEqual([relative(ROOT, file), false]);
  });

  it('when the sources are scanned, then only the entry points read process.env', () => {
    const allowed = new Set(['src/main.ts', 'src/wechaty-main.ts', 'src/config.ts']);
    const readers = SOURCES.filter((f) => /process\.env\b/.test(readFileSync(f, 'utf8')) && !allowed.has(relative(ROOT, f)) && !relative(ROOT, f).startsWith('src/cli/'));
    expect(readers.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('when the import graph is walked, then nothing imports routes, entry points or workers/main and there is no cycle', () => {
    const graph = new Map(SOURCES.map((f) => [f, importsOf(f).filter((t) => SOURCES.includes(t))]));
    const forbidden = (target: string) => /\/src\/routes\//.test(target) || /\/src\/main\.ts$/.test(target) || /\/workers\/main\.ts$/.test(target);
    for (const [from, targets] of graph) {
      for (const target of targets) {
        const fromRel = relative(ROOT, from);
        const okImporter = fromRel === 'src/app.ts' || fromRel === 'src/main.ts' || fromRel.startsWith('src/routes/') || fromRel.startsWith('src/cli/') || fromRel === 'src/wechaty-main.ts' || fromRel.startsWith('src/simulator/');
        if (forbidden(target) && !okImporter) expect(`${fromRel} imports ${relative(ROOT, target)}`).toBe('no forbidden import');
      }
    }
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (node: string, path: string[]) => {
      if (state.get(node) === 'done') return;
      if (state.get(node) === 'visiting') { cycles.push([...path.slice(path.indexOf(node)), node].map((p) => relative(ROOT, p)).join(' → ')); return; }
      state.set(node, 'visiting');
      for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
      state.set(node, 'done');
    };
    for (const node of graph.keys()) visit(node, []);
    expect(cycles).toEqual([]);
  });
});

import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ConversationState } from '../engine/state.js';
import type { FlowRegistry } from '../engine/registry.js';

/**
 * Prometheus metrics and the registration funnel.
 *
 * Two kinds of numbers:
 * - per process (Prometheus sums them across replicas): default Node metrics, HTTP request durations by route and
 *   status, engine turns by channel/flow/step;
 * - cluster-wide, kept in Redis so every web replica and worker adds to the same figures and any replica can
 *   report them: the funnel (per flow step: entered / advanced / ended / abandoned) and the upstream error counts
 *   (SMS and OA API job failures, which happen in worker processes that have no HTTP server). They are exposed as
 *   gauges read from Redis at scrape time, and the funnel also at `GET /api/v1/stats/funnel`.
 */

const JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized', 'waiting-children'] as const;
export type UpstreamService = 'sms' | 'oa';

export interface TurnEvent { channel: string; before: ConversationState | null; after: ConversationState }

export interface FunnelStep { step: string; entered: number; advanced: number; ended: number; abandoned: number; dropOffRate: number }
export interface FunnelFlow { flow: string; started: number; ended: number; steps: FunnelStep[] }

export interface Metrics {
  registry: Registry;
  /** Called by the conversation service after each saved turn (sync; the Redis update runs in the background). */
  onTurn(event: TurnEvent): void;
  observeHttp(labels: { method: string; route: string; status: number }, seconds: number): void;
  recordUpstreamError(service: UpstreamService, code: string): Promise<void>;
  upstreamErrors(): Promise<{ service: string; code: string; count: number }[]>;
  funnel(): Promise<FunnelFlow[]>;
  /** Writes pending funnel counts now (before shutdown). */
  flush(): Promise<void>;
  /** The queues whose depths `/metrics` reports (the web app sets them once it has opened them). */
  setQueues(queues: readonly Queue[]): void;
}

const FIELD_SEP = '|';
/** Funnel counts are summed in the process and written to Redis at most this often. */
const FUNNEL_FLUSH_MS = 1000;

export function createMetrics(deps: { redis: Redis; prefix: string; flows: FlowRegistry; log: Logger }): Metrics {
  const { redis, log } = deps;
  const funnelKey = `${deps.prefix}:metrics:funnel`;
  const errorsKey = `${deps.prefix}:metrics:upstream-errors`;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let queues: readonly Queue[] = [];
  const pendingFunnel = new Map<string, number>();
  let flushTimer: NodeJS.Timeout | null = null;

  const http = new Histogram({
    name: 'boardroll_http_request_duration_seconds', help: 'HTTP request duration by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry],
  });
  const turns = new Counter({
    name: 'boardroll_conversation_turns_total', help: 'Engine turns handled by this process, by channel and by the flow/step the user answered',
    labelNames: ['channel', 'flow', 'step'] as const, registers: [registry],
  });

  async function readFunnel(): Promise<FunnelFlow[]> {
    await flushFunnel();
    const raw = await redis.hgetall(funnelKey);
    const counts = new Map<string, number>();
    for (const [field, value] of Object.entries(raw)) counts.set(field, Number(value));
    const get = (...parts: string[]) => counts.get(parts.join(FIELD_SEP)) ?? 0;
    const out: FunnelFlow[] = [];
    for (const [id, compiled] of deps.flows.flows) {
      const steps = compiled.flow.steps.map((s) => {
        const entered = get(id, s.id, 'entered');
        const advanced = get(id, s.id, 'advanced');
        const ended = get(id, s.id, 'ended');
        const abandoned = Math.max(0, entered - advanced - ended);
        return { step: s.id, entered, advanced, ended, abandoned, dropOffRate: entered === 0 ? 0 : Number((abandoned / entered).toFixed(4)) };
      });
      out.push({ flow: id, started: get(id, '', 'started'), ended: steps.reduce((n, s) => n + s.ended, 0), steps });
    }
    return out;
  }

  new Gauge({
    name: 'boardroll_funnel_step', help: 'Cluster-wide funnel per flow step (kind = entered | advanced | ended | abandoned), read from Redis',
    labelNames: ['flow', 'step', 'kind'] as const, registers: [registry],
    async collect() {
      this.reset();
      for (const f of await readFunnel()) {
        for (const s of f.steps) {
          if (s.entered === 0) continue;
          for (const kind of ['entered', 'advanced', 'ended', 'abandoned'] as const) this.set({ flow: f.flow, step: s.step, kind }, s[kind]);
        }
      }
    },
  });
  new Gauge({
    name: 'boardroll_funnel_step_dropoff_ratio', help: 'Cluster-wide share of step entries that were abandoned there (neither advanced nor ended)',
    labelNames: ['flow', 'step'] as const, registers: [registry],
    async collect() {
      this.reset();
      for (const f of await readFunnel()) for (const s of f.steps) if (s.entered > 0) this.set({ flow: f.flow, step: s.step }, s.dropOffRate);
    },
  });
  new Gauge({
    name: 'boardroll_upstream_errors', help: 'Cluster-wide cumulative count of failed SMS and OA API calls (job attempts), by service and error code',
    labelNames: ['service', 'code'] as const, registers: [registry],
    async collect() {
      this.reset();
      for (const e of await upstreamErrors()) this.set({ service: e.service, code: e.code }, e.count);
    },
  });
  new Gauge({
    name: 'boardroll_queue_jobs', help: 'BullMQ jobs per queue and state',
    labelNames: ['queue', 'state'] as const, registers: [registry],
    async collect() {
      this.reset();
      for (const queue of queues) {
        const counts = await queue.getJobCounts(...JOB_STATES);
        for (const state of JOB_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
      }
    },
  });

  async function upstreamErrors() {
    const raw = await redis.hgetall(errorsKey);
    return Object.entries(raw).map(([field, value]) => {
      const [service = '', code = ''] = field.split(FIELD_SEP);
      return { service, code, count: Number(value) };
    });
  }

  function onTurn({ channel, before, after }: TurnEvent): void {
    turns.inc({ channel, flow: before?.flow ?? 'none', step: before?.step ?? 'none' });
    const wasIn = before?.flow && before.step ? { flow: before.flow, step: before.step } : null;
    const nowIn = after.flow && after.step ? { flow: after.flow, step: after.step } : null;
    if (wasIn && nowIn && wasIn.flow === nowIn.flow && wasIn.step === nowIn.step) return; // answered again (retry, help…)
    const fields: string[] = [];
    if (wasIn) fields.push([wasIn.flow, wasIn.step, nowIn?.flow === wasIn.flow ? 'advanced' : 'ended'].join(FIELD_SEP));
    if (nowIn) {
      fields.push([nowIn.flow, nowIn.step, 'entered'].join(FIELD_SEP));
      if (wasIn?.flow !== nowIn.flow) fields.push([nowIn.flow, '', 'started'].join(FIELD_SEP));
    }
    if (fields.length === 0) return;
    for (const field of fields) pendingFunnel.set(field, (pendingFunnel.get(field) ?? 0) + 1);
    flushTimer ??= setTimeout(() => {
      flushTimer = null;
      flushFunnel().catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'funnel update failed'));
    }, FUNNEL_FLUSH_MS).unref();
  }

  /** Writes the counts gathered since the last flush (one pipeline a second instead of one per message). */
  async function flushFunnel(): Promise<void> {
    if (pendingFunnel.size === 0) return;
    const pipeline = redis.pipeline();
    for (const [field, n] of pendingFunnel) pipeline.hincrby(funnelKey, field, n);
    pendingFunnel.clear();
    await pipeline.exec();
  }

  return {
    registry,
    onTurn,
    observeHttp(labels, seconds) {
      http.observe({ method: labels.method, route: labels.route, status_code: String(labels.status) }, seconds);
    },
    async recordUpstreamError(service, code) {
      await redis.hincrby(errorsKey, [service, code.replace(/[|\s]/g, '_').slice(0, 64) || 'UNKNOWN'].join(FIELD_SEP), 1);
    },
    upstreamErrors,
    funnel: readFunnel,
    flush: flushFunnel,
    setQueues(list) { queues = list; },
  };
}

/** Which upstream a failed outbound job talked to, and the error code it failed with (no message text: it may hold PII). */
export function upstreamFailureOf(jobData: unknown, err: Error): { service: UpstreamService; code: string } | null {
  const kind = typeof jobData === 'object' && jobData !== null ? (jobData as { kind?: unknown }).kind : undefined;
  const service: UpstreamService | null = kind === 'sms' ? 'sms' : typeof kind === 'string' && kind.startsWith('wechat-') ? 'oa' : null;
  if (!service) return null;
  const own = (err as { code?: unknown }).code;
  const code = typeof own === 'string' && own !== '' ? own : /^([A-Za-z][\w.]*):/.exec(err.message)?.[1] ?? err.name;
  return { service, code };
}

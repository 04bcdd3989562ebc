// `kars rollout start`: starts a sandbox rollout (POST /api/rollouts) from flags or a request file, prints its id.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliCommand } from '../command';
import { CliUsageError } from '../command';
import { parseFlags, rolloutApi, ROLLOUT_COMMON_FLAGS, ROLLOUT_COMMON_USAGE } from './rollout-api';

const USAGE = `usage: kars rollout start --revision <id> --sandboxes <a,b,...> [--spec <file.json>] [--max-unavailable <n|n%>]
         [--canary <n>] [--failure-threshold <n>] [--approve-waves <2,3>] [--approval-timeout-ms <ms>]
         [--health-interval-ms <ms>] [--id <rolloutId>] [--file <request.json>] [--url <url>] [--json]
  --spec      JSON file with the revision's spec (AKS: images by digest and their cosign signatures)
  --file      a whole POST /api/rollouts body; the other flags override its fields
${ROLLOUT_COMMON_USAGE}
  exit codes  0 started, 1 refused by the API, 2 usage error`;

const int = (v: unknown, flag: string): number => {
  if (typeof v !== 'string' || !/^\d{1,9}$/.test(v)) throw new CliUsageError(`${flag} must be a whole number`);
  return Number(v);
};

function readJsonFile(cwd: string, file: string, flag: string): Record<string, unknown> {
  try {
    const v = JSON.parse(readFileSync(resolve(cwd, file), 'utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch {
    throw new CliUsageError(`${flag} must name a readable JSON object file`);
  }
}

export const rolloutStartCommand: CliCommand = {
  name: 'rollout start',
  summary: 'start a sandbox rollout (waves, health gates, optional approvals)',
  usage: USAGE,
  async run(args, io) {
    const { values: v } = parseFlags(() => parseArgs({
      args: [...args], strict: true, allowPositionals: false,
      options: {
        ...ROLLOUT_COMMON_FLAGS, revision: { type: 'string' }, sandboxes: { type: 'string' }, spec: { type: 'string' }, file: { type: 'string' },
        'max-unavailable': { type: 'string' }, canary: { type: 'string' }, 'failure-threshold': { type: 'string' },
        'approve-waves': { type: 'string' }, 'approval-timeout-ms': { type: 'string' }, 'health-interval-ms': { type: 'string' }, id: { type: 'string' },
      },
    }));
    const body: Record<string, unknown> = v.file ? readJsonFile(io.cwd, v.file, '--file') : {};
    if (v.id) body.instanceId = v.id;
    if (v.revision || v.spec) {
      const prior = (body.revision ?? {}) as Record<string, unknown>;
      body.revision = { id: v.revision ?? prior.id, spec: v.spec ? readJsonFile(io.cwd, v.spec, '--spec') : prior.spec ?? {} };
    }
    if (v.sandboxes) body.sandboxIds = v.sandboxes.split(',').map((s) => s.trim()).filter(Boolean);
    if (v['max-unavailable']) body.maxUnavailable = /%$/.test(v['max-unavailable']) ? v['max-unavailable'] : int(v['max-unavailable'], '--max-unavailable');
    if (v.canary) body.canarySize = int(v.canary, '--canary');
    if (v['failure-threshold']) body.failureThreshold = int(v['failure-threshold'], '--failure-threshold');
    if (v['health-interval-ms']) body.health = { ...(body.health as object | undefined), intervalMs: int(v['health-interval-ms'], '--health-interval-ms') };
    if (v['approve-waves'] || v['approval-timeout-ms']) {
      const prior = (body.approval ?? { batches: [] }) as Record<string, unknown>;
      body.approval = {
        ...prior,
        ...(v['approve-waves'] ? { batches: v['approve-waves'].split(',').map((b) => int(b.trim(), '--approve-waves')) } : {}),
        ...(v['approval-timeout-ms'] ? { timeoutMs: int(v['approval-timeout-ms'], '--approval-timeout-ms') } : {}),
      };
    }
    if (!body.revision || !body.sandboxIds) throw new CliUsageError('--revision and --sandboxes (or --file) are required');
    const api = await rolloutApi(io, v);
    const r = await api.call('POST', 'rollouts', body);
    if (r.status !== 202 || v.json) {
      io.out(r.status === 202 ? r.text : `HTTP ${r.status} ${r.text}`);
      return r.status === 202 ? 0 : 1;
    }
    const b = JSON.parse(r.text) as { instanceId: string; batches: number; total: number };
    io.out(`rollout ${b.instanceId} started: ${b.total} sandboxes in ${b.batches} waves`);
    io.out(`  kars rollout status ${b.instanceId} --watch`);
    return 0;
  },
};

// `kars rollout approve <id> [--wave n]` and `kars rollout abort <id>`: raise the rollout's approve or abort event
// through its operator routes. Without --wave, approve reads which wave is waiting and approves exactly that one.
import { parseArgs } from 'node:util';
import type { CliCommand } from '../command';
import { CliUsageError } from '../command';
import type { RolloutStatusView } from './render-rollout-progress';
import { parseFlags, rolloutApi, rolloutIdArg, ROLLOUT_COMMON_FLAGS, ROLLOUT_COMMON_USAGE } from './rollout-api';

export const rolloutApproveCommand: CliCommand = {
  name: 'rollout approve',
  summary: 'approve the wave a rollout is waiting for',
  usage: `usage: kars rollout approve <rolloutId> [--wave <n>] [--url <url>] [--json]
  --wave      the wave to approve (default: the one waiting now)
${ROLLOUT_COMMON_USAGE}
  exit codes  0 approved, 1 refused by the API (not waiting for that wave), 2 usage error`,
  async run(args, io) {
    const { values: v, positionals } = parseFlags(() => parseArgs({
      args: [...args], strict: true, allowPositionals: true, options: { ...ROLLOUT_COMMON_FLAGS, wave: { type: 'string' } },
    }));
    const id = rolloutIdArg(positionals);
    if (v.wave !== undefined && !/^[1-9]\d{0,3}$/.test(v.wave)) throw new CliUsageError('--wave must be a wave number');
    const api = await rolloutApi(io, v);
    let wave = v.wave === undefined ? undefined : Number(v.wave);
    if (wave === undefined) {
      const s = await api.call('GET', `rollouts/${encodeURIComponent(id)}`);
      if (s.status !== 200) {
        io.out(`HTTP ${s.status} ${s.text}`);
        return 1;
      }
      wave = (JSON.parse(s.text) as RolloutStatusView).progress?.awaitingApproval;
      if (wave === undefined) {
        io.err(`kars rollout approve: rollout ${id} is not waiting for an approval`);
        return 1;
      }
    }
    const r = await api.call('POST', `rollouts/${encodeURIComponent(id)}/approve`, { batch: wave });
    io.out(r.status === 202 && !v.json ? `rollout ${id}: wave ${wave} approved` : r.status === 202 ? r.text : `HTTP ${r.status} ${r.text}`);
    return r.status === 202 ? 0 : 1;
  },
};

export const rolloutAbortCommand: CliCommand = {
  name: 'rollout abort',
  summary: 'abort a rollout: it halts and rolls back what it applied',
  usage: `usage: kars rollout abort <rolloutId> [--url <url>] [--json]
${ROLLOUT_COMMON_USAGE}
  exit codes  0 abort requested, 1 refused by the API, 2 usage error`,
  async run(args, io) {
    const { values: v, positionals } = parseFlags(() => parseArgs({ args: [...args], strict: true, allowPositionals: true, options: { ...ROLLOUT_COMMON_FLAGS } }));
    const id = rolloutIdArg(positionals);
    const api = await rolloutApi(io, v);
    const r = await api.call('POST', `rollouts/${encodeURIComponent(id)}/abort`);
    io.out(r.status === 202 && !v.json ? `rollout ${id}: abort requested; it rolls back what it applied` : r.status === 202 ? r.text : `HTTP ${r.status} ${r.text}`);
    return r.status === 202 ? 0 : 1;
  },
};

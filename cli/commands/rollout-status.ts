// `kars rollout status <id> [--watch]`: a rollout's waves and totals; --watch redraws until it finishes (in place on a
// terminal, one block per change otherwise) and exits 0 only when every sandbox rolled.
import { parseArgs } from 'node:util';
import type { CliCommand } from '../command';
import { CliUsageError } from '../command';
import { renderRolloutProgress, type RolloutStatusView } from './render-rollout-progress';
import { parseFlags, rolloutApi, rolloutIdArg, ROLLOUT_COMMON_FLAGS, ROLLOUT_COMMON_USAGE } from './rollout-api';

const USAGE = `usage: kars rollout status <rolloutId> [--watch] [--interval-ms <ms>] [--url <url>] [--json]
  --watch        follow the rollout until it finishes (exit 0 succeeded, 1 anything else)
${ROLLOUT_COMMON_USAGE}`;

const TERMINAL = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);

export const rolloutStatusCommand: CliCommand = {
  name: 'rollout status',
  summary: 'show a rollout\'s progress per wave (--watch to follow it)',
  usage: USAGE,
  async run(args, io) {
    const { values: v, positionals } = parseFlags(() => parseArgs({
      args: [...args], strict: true, allowPositionals: true,
      options: { ...ROLLOUT_COMMON_FLAGS, watch: { type: 'boolean' }, 'interval-ms': { type: 'string' } },
    }));
    const id = rolloutIdArg(positionals);
    const interval = v['interval-ms'] === undefined ? 1000 : Number(v['interval-ms']);
    if (!Number.isInteger(interval) || interval < 50 || interval > 60_000) throw new CliUsageError('--interval-ms must be 50 to 60000');
    const api = await rolloutApi(io, v);
    let drawn: string[] = [];
    for (;;) {
      const r = await api.call('GET', `rollouts/${encodeURIComponent(id)}`);
      if (r.status !== 200) {
        io.out(`HTTP ${r.status} ${r.text}`);
        return 1;
      }
      const view = JSON.parse(r.text) as RolloutStatusView;
      const lines = v.json ? [r.text] : renderRolloutProgress(view);
      if (lines.join('\n') !== drawn.join('\n')) {
        // On a terminal, move up over the previous block and clear it: the bars update in place.
        if (io.tty && drawn.length > 0) io.out(`\x1b[${drawn.length + 1}A\x1b[J`);
        for (const line of lines) io.out(line);
        drawn = lines;
      }
      const done = TERMINAL.has(view.runtimeStatus);
      if (!v.watch || done) {
        if (!done) return 0;
        return view.runtimeStatus === 'Completed' && (view.output as { outcome?: string } | null)?.outcome === 'Succeeded' ? 0 : 1;
      }
      await new Promise((res) => setTimeout(res, interval));
    }
  },
};

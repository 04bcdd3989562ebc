// Draws a rollout's progress the way `kubectl rollout status` reports it: one line per wave (a bar for the wave in
// flight), then the totals; pure, so tests and --watch share it.
import type { RolloutProgress } from '../../core/rollouts/rollout-ledger';

export interface RolloutStatusView {
  instanceId: string;
  runtimeStatus: string;
  progress: RolloutProgress | null;
  output: unknown;
}

const BAR = 20;

function bar(done: number, failed: number, size: number): string {
  const d = size === 0 ? 0 : Math.round((done / size) * BAR);
  const f = size === 0 ? 0 : Math.min(BAR - d, Math.round((failed / size) * BAR));
  return `[${'#'.repeat(d)}${'x'.repeat(f)}${'-'.repeat(BAR - d - f)}]`;
}

export function renderRolloutProgress(v: RolloutStatusView): string[] {
  const p = v.progress;
  if (!p) return [`rollout ${v.instanceId}: ${v.runtimeStatus}, not started yet`];
  const lines = [`rollout ${v.instanceId}: revision ${p.revisionId}, ${p.phase}${p.haltReason ? ` (${p.haltReason})` : ''} [${v.runtimeStatus}]`];
  const finished = p.phase === 'succeeded' || p.phase === 'completed-with-failures';
  const past = p.phase === 'rolling-back' || p.phase === 'rolled-back' ? 'rolled back' : 'done';
  for (let w = 1; w <= p.batches; w++) {
    const label = `  wave ${String(w).padStart(String(p.batches).length)}/${p.batches}`;
    if (w < p.currentBatch || (w === p.currentBatch && finished)) {
      lines.push(`${label}  ${w === p.currentBatch && p.wave ? bar(p.wave.done, p.wave.failed, p.wave.size) : bar(1, 0, 1)} ${past}`);
    } else if (w === p.currentBatch && p.wave) {
      const state = p.awaitingApproval === w ? 'awaiting approval (kars rollout approve)' : `${p.wave.done}/${p.wave.size} healthy, ${p.wave.failed} failed`;
      lines.push(`${label}  ${bar(p.wave.done, p.wave.failed, p.wave.size)} ${state}`);
    } else {
      lines.push(`${label}  ${bar(0, 0, 1)} ${w === p.currentBatch ? p.phase : 'waiting'}`);
    }
  }
  lines.push(`  total   ${p.done}/${p.total} healthy, ${p.failed} failed, ${p.rolledBack} rolled back`);
  return lines;
}

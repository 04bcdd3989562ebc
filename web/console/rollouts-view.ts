// Rollouts view: one rollout's state and waves by instance id (GET /api/rollouts/{id}), with approve and abort through
// the operator routes POST /api/rollouts/{id}/approve|abort; a deployment without them says so.
import { api, ApiError } from './api';
import { el, setText } from './dom';

interface RolloutStatus {
  instanceId: string;
  runtimeStatus: string;
  progress: unknown;
  output: unknown;
  createdTime: string;
  lastUpdatedTime: string;
}

export async function renderRollouts(root: HTMLElement, instanceId = ''): Promise<void> {
  const input = el('input', { id: 'rollout-id', type: 'text', size: '36', value: instanceId });
  const form = el('form', { class: 'inline' }, el('label', { for: 'rollout-id' }, 'Rollout id'), input, el('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void renderRollouts(root, input.value.trim());
  });
  const body = el('div', {});
  root.replaceChildren(el('h2', {}, 'Rollout'), form, body);
  if (instanceId === '') return void body.replaceChildren(el('p', {}, 'Enter the id a rollout was started under.'));
  let status: RolloutStatus;
  try {
    status = await api<RolloutStatus>(`rollouts/${encodeURIComponent(instanceId)}`);
  } catch (e) {
    return void body.replaceChildren(el('p', { class: 'bad' }, e instanceof ApiError ? e.code : 'failed'));
  }
  const result = el('p', { role: 'status' });
  const actions = (['approve', 'abort'] as const).map((action) => {
    const b = el('button', { type: 'button', class: 'action' }, action === 'approve' ? 'Approve next wave' : 'Abort');
    // Approve names the batch the orchestrator waits on (its progress' awaitingApproval); abort takes no body.
    const batch = (status.progress as { awaitingApproval?: unknown } | null)?.awaitingApproval;
    if (action === 'approve' && typeof batch !== 'number') b.disabled = true;
    b.addEventListener('click', () => void act(instanceId, action, action === 'approve' ? { batch } : undefined, result, () => renderRollouts(root, instanceId)));
    return b;
  });
  body.replaceChildren(
    el('p', {}, `${status.runtimeStatus}, started ${status.createdTime}, updated ${status.lastUpdatedTime}`),
    el('pre', { 'aria-label': 'Progress' }, JSON.stringify(status.progress, null, 2)),
    el('p', {}, ...actions),
    result,
  );
}

async function act(id: string, action: 'approve' | 'abort', body: unknown, out: HTMLElement, refresh: () => Promise<void>): Promise<void> {
  try {
    await api(`rollouts/${encodeURIComponent(id)}/${action}`, { method: 'POST', ...(body !== undefined ? { body } : {}) });
    await refresh();
  } catch (e) {
    // 404/405 from the host: the route is not in this deployment's table.
    setText(out, e instanceof ApiError && (e.code === 'NOT_FOUND' || e.status === 405 || e.code === 'HTTP_404') ? `${action} is not available on this deployment` : e instanceof ApiError ? e.code : 'failed');
  }
}

// The console's entry: view switching, credentials (Azure sign-in token or the local admin key), periodic refresh of
// the edge view. Loaded as app.js by index.html (no inline script: CSP script-src 'self').
import { ApiError, hasCredential, useAdminKey, useEasyAuthToken } from './api';
import { renderAudit } from './audit-view';
import { setText } from './dom';
import { renderEdge } from './edge-view';
import { renderRollouts } from './rollouts-view';
import { renderTrust } from './trust-view';

const VIEWS: Record<string, (root: HTMLElement) => Promise<void>> = {
  edge: renderEdge,
  audit: renderAudit,
  trust: (root) => renderTrust(root),
  rollouts: (root) => renderRollouts(root),
};
const REFRESH_MS = 5000;

const root = document.getElementById('view')!;
const status = document.getElementById('status')!;
const keyForm = document.getElementById('key-form') as HTMLFormElement;
let current = 'edge';
let generation = 0;
let timer: ReturnType<typeof setTimeout> | undefined;

async function show(view: string): Promise<void> {
  current = view;
  const mine = ++generation;
  clearTimeout(timer);
  for (const b of document.querySelectorAll<HTMLButtonElement>('nav button')) {
    if (b.dataset['view'] === view) b.setAttribute('aria-current', 'page');
    else b.removeAttribute('aria-current');
  }
  document.body.dataset['view'] = view;
  try {
    // Rendered off-page, shown only if no later show() started meanwhile (a slow refresh must not replace a newer view).
    const next = document.createElement('div');
    await VIEWS[view]!(next);
    if (mine !== generation) return;
    root.replaceChildren(next);
    setText(status, `updated ${new Date().toLocaleTimeString()}`);
    document.body.dataset['rendered'] = view;
  } catch (e) {
    if (mine !== generation) return;
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
      keyForm.hidden = false;
      setText(status, 'sign in or enter the admin key');
    } else setText(status, e instanceof ApiError ? `error ${e.code}` : 'error');
  }
  // Only the traffic view refreshes by itself; the others hold inputs the operator is typing into.
  if (view === 'edge') timer = setTimeout(() => { if (current === 'edge') void show('edge'); }, REFRESH_MS);
}

keyForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const input = document.getElementById('admin-key') as HTMLInputElement;
  useAdminKey(input.value);
  input.value = '';
  keyForm.hidden = true;
  void show(current);
});
for (const b of document.querySelectorAll<HTMLButtonElement>('nav button')) {
  b.addEventListener('click', () => void show(b.dataset['view'] ?? 'edge'));
}

void (async () => {
  // Behind App Service Authentication (Azure) the sign-in token; on a loopback host (npm start) there is none to ask for.
  const loopback = location.hostname === '127.0.0.1' || location.hostname === 'localhost';
  if (!loopback) await useEasyAuthToken();
  if (!hasCredential()) {
    keyForm.hidden = false;
    setText(status, 'sign in or enter the admin key');
    return;
  }
  await show('edge');
})();

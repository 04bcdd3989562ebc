// Audit view (T1-R): each chain's head and latest signed checkpoint, a verify action per chain (the verifier of
// `kars audit verify`), and one receipt with its inclusion proof (as `kars audit prove`).
import { api, ApiError } from './api';
import { el, setText, table, time } from './dom';

interface ChainHead {
  chain: string;
  head: { seq: number; hash: string; timeMs: number; size: number } | null;
  checkpoint: { seq: number; timeMs: number; keyId: string } | null;
}

interface VerifyResult {
  ok: boolean;
  receipts: number;
  entries: number;
  break: { seq: number; kind: string; detail: string } | null;
}

interface ReceiptResult {
  receiptId: string;
  proven: boolean;
  reason: string | null;
  receipt: unknown;
  proof: { inclusion: string[]; checkpoint: { seq: number; keyId: string } } | null;
}

export async function renderAudit(root: HTMLElement): Promise<void> {
  const { chains } = await api<{ chains: ChainHead[] }>('console/data/audit/chains');
  const rows = chains.map((c) => {
    const result = el('span', { class: 'verdict' });
    const button = el('button', { type: 'button', class: 'action', 'aria-label': `Verify chain ${c.chain}` }, 'Verify');
    button.addEventListener('click', () => void verify(c.chain, result));
    return [
      el('code', {}, c.chain),
      c.head ? c.head.seq : 0,
      c.head ? time(c.head.timeMs) : '',
      el('code', {}, c.head ? c.head.hash.slice(0, 16) : ''),
      c.checkpoint ? `${c.checkpoint.seq} @ ${time(c.checkpoint.timeMs)}` : 'none',
      el('span', {}, button, ' ', result),
    ];
  });
  const input = el('input', { id: 'receipt-id', type: 'text', size: '40', placeholder: 'audit-00:000000000001:000' });
  const out = el('div', {});
  const form = el('form', { class: 'inline' }, el('label', { for: 'receipt-id' }, 'Receipt id'), input, el('button', { type: 'submit' }, 'Look up'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void lookUp(input.value.trim(), out);
  });
  root.replaceChildren(
    el('h2', {}, 'Receipt chains'),
    table(['Chain', 'Head seq', 'Head time', 'Head hash', 'Latest checkpoint', 'Verify'], rows),
    el('h2', {}, 'Receipt and inclusion proof'),
    form,
    out,
  );
}

async function verify(chain: string, out: HTMLElement): Promise<void> {
  setText(out, 'verifying…');
  try {
    const r = await api<VerifyResult>(`console/data/audit/verify?chain=${encodeURIComponent(chain)}`);
    out.className = `verdict ${r.ok ? 'ok' : 'bad'}`;
    setText(out, r.ok ? `intact: ${r.receipts} receipts in ${r.entries} entries` : `BROKEN at seq ${r.break?.seq ?? '?'}: ${r.break?.kind ?? ''} (${r.break?.detail ?? ''})`);
  } catch (e) {
    out.className = 'verdict bad';
    setText(out, e instanceof ApiError ? e.code : 'failed');
  }
}

async function lookUp(id: string, out: HTMLElement): Promise<void> {
  try {
    const r = await api<ReceiptResult>(`console/data/audit/receipts/${encodeURIComponent(id)}`);
    out.replaceChildren(...[
      el('p', { class: r.proven ? 'ok' : 'bad' }, r.proven ? `proven against checkpoint ${r.proof?.checkpoint.seq ?? ''} (key ${r.proof?.checkpoint.keyId ?? ''})` : `not proven: ${r.reason ?? ''}`),
      el('pre', { 'aria-label': 'Receipt' }, JSON.stringify(r.receipt, null, 2)),
      r.proof ? el('pre', { 'aria-label': 'Inclusion proof' }, JSON.stringify(r.proof.inclusion, null, 2)) : null,
    ].filter((n) => n !== null) as HTMLElement[]);
  } catch (e) {
    out.replaceChildren(el('p', { class: 'bad' }, e instanceof ApiError ? e.code : 'failed'));
  }
}

// Suite-wide canary guard (T1-I): every test file's own log output (process stdout/stderr and console) is scanned for
// the canary secrets the attack tests plant (`kcanary` + 12 hex, tests/threats/canary.ts). A file whose code printed
// one fails in afterAll, so a leak anywhere in the suite — not only in the canary-scan test — breaks CI.
import { afterAll } from 'vitest';

const CANARY = /kcanary[0-9a-f]{12}/;
const hits: string[] = [];

function inspect(where: string, chunk: unknown): void {
  const text = typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : '';
  const m = CANARY.exec(text);
  if (m) hits.push(`${where}: ${m[0]}`);
}

for (const stream of [process.stdout, process.stderr] as const) {
  const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  const where = stream === process.stdout ? 'stdout' : 'stderr';
  (stream as unknown as { write: (...args: unknown[]) => boolean }).write = (...args: unknown[]) => {
    inspect(where, args[0]);
    return original(...args);
  };
}
for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  const original = console[level].bind(console);
  console[level] = (...args: unknown[]) => {
    for (const a of args) inspect(`console.${level}`, typeof a === 'string' ? a : JSON.stringify(a) ?? '');
    original(...args);
  };
}

/** For the guard's own test: what was seen so far, and a reset. */
export function _canaryGuardHits(): string[] {
  return [...hits];
}
export function _resetCanaryGuard(): void {
  hits.length = 0;
}

afterAll(() => {
  if (hits.length > 0) throw new Error(`canary secret printed by this test file (T1-I): ${hits.join(', ')}`);
});

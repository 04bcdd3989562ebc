// Suite-wide canary guard (T1-I): every byte a test file's processes log is scanned for the canary secrets the attack
// tests plant (`kcanary` + 12 hex, and every value registered through tests/threats/canary.ts), raw or encoded
// (tests/support/canary-forms.ts). Channels: this worker's stdout/stderr and console (Error objects included, with
// message, stack, cause and properties), every child process's stdout/stderr (tests/support/guard-child-processes.ts),
// in-memory log sinks (tests/support/log-sink.ts) and unhandled errors. A file whose code leaked one fails in
// afterAll, so a leak anywhere in the suite — not only in the canary-scan test — breaks CI. The failure names the
// channel and form, and a fingerprint instead of the canary: the report must not leak it either.
import { createHash } from 'node:crypto';
import { afterAll } from 'vitest';
import { findCanaries } from '../support/canary-forms';
import { guardChildProcesses } from '../support/guard-child-processes';
import { renderLogged } from '../support/render-logged';

interface GuardState {
  readonly hits: string[];
  readonly known: Set<string>;
  /** Tail of the last chunk per channel, so a canary split across two writes is still seen. */
  readonly tails: Map<string, string>;
  readonly writes: { 1: (chunk: Uint8Array | string) => boolean; 2: (chunk: Uint8Array | string) => boolean };
}

// Longest encoded canary: 19 characters JSON-escaped as \u00XX is 114; keep more for prefixes such as `%5Cu00`.
const TAIL_CHARS = 512;
const STATE = Symbol.for('kars.canaryGuard.state');
const global = globalThis as { [STATE]?: GuardState };

const fingerprint = (value: string): string => `kcanary#${createHash('sha256').update(value.toLowerCase()).digest('hex').slice(0, 8)}`;

function text(chunk: unknown): string {
  if (typeof chunk === 'string') return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
  return '';
}

function install(): GuardState {
  const state: GuardState = {
    hits: [],
    known: new Set(),
    tails: new Map(),
    writes: { 1: process.stdout.write.bind(process.stdout), 2: process.stderr.write.bind(process.stderr) },
  };
  for (const [fd, stream] of [[1, process.stdout], [2, process.stderr]] as const) {
    const original = state.writes[fd];
    (stream as unknown as { write: (...args: unknown[]) => boolean }).write = (...args: unknown[]) => {
      guardChunk(fd === 1 ? 'stdout' : 'stderr', args[0]);
      return (original as (...a: unknown[]) => boolean)(...args);
    };
  }
  for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir'] as const) {
    const original = console[level].bind(console) as (...args: unknown[]) => void;
    console[level] = (...args: unknown[]) => {
      for (const a of args) guardValue(`console.${level}`, a);
      original(...args);
    };
  }
  guardChildProcesses(guardChunk, (fd, chunk) => state.writes[fd](chunk));
  // Vitest reports these (message and stack) in the run's output.
  process.on('uncaughtExceptionMonitor', (e) => guardValue('uncaught exception', e));
  process.on('unhandledRejection', (e) => guardValue('unhandled rejection', e));
  return state;
}

const state = (global[STATE] ??= install());

function record(where: string, body: string): void {
  for (const f of findCanaries(body, state.known)) {
    const hit = `${where}: ${fingerprint(f.value)} (${f.form})`;
    if (!state.hits.includes(hit)) state.hits.push(hit);
  }
}

/** Scans one chunk of a stream (stdout, a child's stderr...), with the tail of the previous chunk of that stream. */
export function guardChunk(where: string, chunk: unknown): void {
  const body = (state.tails.get(where) ?? '') + text(chunk);
  state.tails.set(where, body.slice(-TAIL_CHARS));
  record(where, body);
}

/** Scans a whole logged value: a line, an object of fields, an Error with its cause chain. */
export function guardValue(where: string, value: unknown): void {
  record(where, typeof value === 'string' ? value : renderLogged(value));
}

/** Makes the guard look for an exact value too (a host key, a secret not shaped like a kcanary). */
export function registerCanary(value: string): void {
  state.known.add(value);
}

/** For the guard's own test: what was seen so far (channels, forms and fingerprints, never values), and a reset. */
export function _canaryGuardHits(): string[] {
  return [...state.hits];
}
export function _resetCanaryGuard(): void {
  state.hits.length = 0;
  state.tails.clear();
}

/** The file-level verdict afterAll applies. @throws {Error} naming each leak's channel, form and fingerprint */
export function assertNoCanaryLeaks(): void {
  if (state.hits.length > 0) throw new Error(`canary secret logged by this test file (T1-I): ${state.hits.join('; ')}`);
}

afterAll(() => {
  try {
    assertNoCanaryLeaks();
  } finally {
    _resetCanaryGuard(); // a worker that runs another file next starts clean
  }
});

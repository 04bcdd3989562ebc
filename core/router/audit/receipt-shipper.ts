// T2-R / T3-R: the router's receipt shipper. As the router's ReceiptSink it only puts a receipt on the durable spool
// (the model call path never waits on the network); a loop ships the spool's oldest receipts in batches (full batch,
// or the oldest has waited `maxDelayMs`) to the audit chain's writer and acknowledges them once the app has appended
// them. Failures are retried with capped exponential backoff (honouring a Retry-After), so an app outage only delays
// receipts; a batch the app can never accept (malformed) is dropped with an error line rather than block the rest.
// Delivery is at least once: a batch appended whose answer was lost is sent again.
import type { Logger } from '../../ports/logger.port';
import type { ReceiptSpool } from '../../ports/receipt-spool.port';
import type { ReceiptTransport } from '../../ports/receipt-transport.port';
import type { ReceiptSink } from '../../ports/receipt-sink.port';
import type { Sleep } from '../../ports/sleep.port';
import { MAX_ROUTER_RECEIPT_BATCH } from './accept-router-receipts';

export interface ReceiptShipperOptions {
  /** Receipts per request, 1..256. Default 256. */
  readonly maxBatch?: number;
  /** How long a partial batch waits for more. Default 1000. */
  readonly maxDelayMs?: number;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
}

export interface ReceiptShipperDeps {
  readonly spool: ReceiptSpool;
  readonly transport: ReceiptTransport;
  readonly sleep: Sleep;
  readonly logger: Logger;
  /** In [0, 1): backoff jitter, so routers do not retry in step after an outage. Default none. */
  readonly random?: () => number;
}

export interface ReceiptShipper extends ReceiptSink {
  /** Starts the loop (ships what an earlier process left on the spool first). */
  start(): void;
  /** Ships what is pending for at most `graceMs` (SIGTERM), then stops; what is left stays on the spool. */
  stop(graceMs: number): Promise<void>;
}

export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(cap / 2 + (cap / 2) * random);
}

export function createReceiptShipper(deps: ReceiptShipperDeps, options: ReceiptShipperOptions = {}): ReceiptShipper {
  const maxBatch = options.maxBatch ?? MAX_ROUTER_RECEIPT_BATCH;
  if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > MAX_ROUTER_RECEIPT_BATCH) throw new RangeError('maxBatch must be 1..256');
  const maxDelayMs = options.maxDelayMs ?? 1000;
  const baseMs = options.backoffBaseMs ?? 500;
  const maxMs = options.backoffMaxMs ?? 30_000;
  const random = deps.random ?? (() => 1);
  const { spool, transport, logger } = deps;

  let running: Promise<void> | undefined;
  let stopping = false;
  let draining = false;
  const stopped = new AbortController();
  let wake: (() => void) | undefined;
  /** What the loop waits for: an append wakes it when idle, or when a batch fills during the delay; never in backoff. */
  let phase: 'idle' | 'delay' | 'backoff' | 'busy' = 'busy';

  const poke = (): void => { const w = wake; wake = undefined; w?.(); };
  /** Waits `ms` (or until poked, or stopping). */
  const pause = async (ms: number | undefined): Promise<void> => {
    const poked = new Promise<void>((resolve) => { wake = resolve; });
    const timer = new AbortController();
    const onStop = (): void => timer.abort();
    stopped.signal.addEventListener('abort', onStop, { once: true });
    try {
      await Promise.race([poked, ...(ms === undefined ? [] : [deps.sleep(ms, { abortSignal: timer.signal }).catch(() => undefined)]),
        new Promise<void>((resolve) => timer.signal.addEventListener('abort', () => resolve(), { once: true }))]);
    } finally {
      timer.abort();
      stopped.signal.removeEventListener('abort', onStop);
    }
  };

  let attempt = 0;
  async function loop(): Promise<void> {
    while (!stopped.signal.aborted) {
      try {
        if (await shipOnce()) return;
      } catch {
        // A disk error reading or acknowledging the spool: the receipts stay on it; try again later.
        attempt += 1;
        logger.error('router.receipts_spool_failed', { count: spool.pending });
        if (draining) return;
        await pause(backoffMs(attempt, baseMs, maxMs, random()));
      }
    }
  }

  /** One round; true when the loop should end. */
  async function shipOnce(): Promise<boolean> {
    {
      let batch = await spool.peek(maxBatch);
      if (batch.length === 0) {
        if (draining) return true;
        phase = 'idle';
        await pause(undefined);
        phase = 'busy';
        return false;
      }
      if (batch.length < maxBatch && attempt === 0 && !draining) {
        phase = 'delay';
        await pause(maxDelayMs);
        phase = 'busy';
        if (stopped.signal.aborted) return true;
        batch = await spool.peek(maxBatch);
      }
      const result = await transport.ship(batch.map((b) => b.receipt), { abortSignal: stopped.signal });
      if (result.ok) {
        attempt = 0;
        await spool.ack(batch.at(-1)!.seq);
        return false;
      }
      if (result.action === 'drop') {
        attempt = 0;
        logger.error('router.receipts_dropped', { count: batch.length, code: result.code });
        await spool.ack(batch.at(-1)!.seq);
        return false;
      }
      attempt += 1;
      if (attempt === 1 || attempt % 10 === 0) logger.warn('router.receipts_ship_retry', { count: spool.pending, code: result.code });
      if (draining) return true;
      phase = 'backoff';
      await pause(Math.max(result.retryAfterMs ?? 0, backoffMs(attempt, baseMs, maxMs, random())));
      phase = 'busy';
      return false;
    }
  }

  return {
    async append(receipt) {
      await spool.append(receipt);
      if (phase === 'idle' || (phase === 'delay' && spool.pending >= maxBatch)) poke();
      return receipt.requestHash;
    },
    start() {
      running ??= loop();
    },
    async stop(graceMs) {
      if (stopping) return;
      stopping = true;
      draining = true;
      poke();
      const timer = new AbortController();
      await Promise.race([running ?? Promise.resolve(), deps.sleep(graceMs, { abortSignal: timer.signal }).catch(() => undefined)]);
      timer.abort();
      stopped.abort();
      poke();
      await running;
    },
  };
}

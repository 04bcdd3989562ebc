// The router's receipt spool on local disk (T2-R, T3-R): `receipts.jsonl` (one `{seq, receipt}` line per receipt,
// appended and fdatasync'ed before `append` resolves; concurrent appends share one flush) and `acked` (the highest
// seq the audit writer has taken, replaced atomically). After a crash the next process ships every line above
// `acked`; a torn last line (a crash mid-write) is cut off at open. Memory holds at most `maxBuffered` pending
// receipts; beyond that they stay on disk only and are read back when memory has drained. When more than half of
// the file is acknowledged it is rewritten with the pending lines only.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { KarsError } from '../../../core/errors';
import type { Logger } from '../../../core/ports/logger.port';
import type { RequestReceipt } from '../../../core/ports/receipt-sink.port';
import type { ReceiptSpool, SpooledReceipt } from '../../../core/ports/receipt-spool.port';

export interface FileReceiptSpoolOptions {
  readonly dir: string;
  /** Bound of the spool file; an append beyond it fails ROUTER_RECEIPT_SPOOL_FULL. Default 64 MiB. */
  readonly maxBytes?: number;
  /** Pending receipts kept in memory. Default 10 000. */
  readonly maxBuffered?: number;
  readonly logger: Logger;
}

const FILE = 'receipts.jsonl';
const CURSOR = 'acked';
const COMPACT_MIN_BYTES = 1024 * 1024;

interface Waiting { json: string; receipt: RequestReceipt; resolve: (s: SpooledReceipt) => void; reject: (e: unknown) => void }

export async function openFileReceiptSpool(options: FileReceiptSpoolOptions): Promise<ReceiptSpool> {
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const maxBuffered = options.maxBuffered ?? 10_000;
  const file = path.join(options.dir, FILE);
  const cursorFile = path.join(options.dir, CURSOR);
  await fs.mkdir(options.dir, { recursive: true, mode: 0o700 });

  let acked = await readCursor(cursorFile);
  const loaded = await readSpoolFile(file, options.logger);
  let fileBytes = loaded.bytes;
  let fileLines = loaded.entries.length;
  let lastSeq = Math.max(acked, loaded.maxSeq);
  let memory: SpooledReceipt[] = [];
  let spilled = false;
  const fill = (entries: readonly SpooledReceipt[]): void => {
    const pending = entries.filter((e) => e.seq > acked);
    memory = pending.slice(0, maxBuffered);
    spilled = pending.length > maxBuffered;
  };
  fill(loaded.entries);
  let pendingCount = loaded.entries.filter((e) => e.seq > acked).length;
  if (pendingCount > 0) options.logger.info('router.receipts_spool_recovered', { count: pendingCount });

  let handle = await fs.open(file, 'a', 0o600);
  // Every file operation runs in this chain, one at a time.
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(op: () => Promise<T>): Promise<T> => {
    const next = tail.then(op, op);
    tail = next.catch(() => undefined);
    return next;
  };

  let queue: Waiting[] = [];
  let queuedBytes = 0;
  let flushing = false;
  const flush = (): void => {
    if (flushing) return;
    flushing = true;
    void serial(async () => {
      while (queue.length > 0) {
        const batch = queue;
        queue = [];
        queuedBytes = 0;
        // The same text as JSON.stringify({ seq, receipt }), with the receipt serialised once, at append.
        const lines = batch.map((w, i) => `{"seq":${lastSeq + 1 + i},"receipt":${w.json}}\n`);
        const text = lines.join('');
        const before = fileBytes;
        try {
          await handle.write(text);
          await handle.datasync();
        } catch {
          await handle.truncate(before).catch(() => undefined);
          for (const w of batch) w.reject(new KarsError('STORE_UNAVAILABLE', 'receipt spool write failed'));
          continue;
        }
        fileBytes += Buffer.byteLength(text);
        fileLines += batch.length;
        batch.forEach((w, i) => {
          const entry: SpooledReceipt = { seq: lastSeq + 1 + i, receipt: w.receipt };
          if (!spilled && memory.length < maxBuffered) memory.push(entry);
          else spilled = true;
          pendingCount += 1;
          w.resolve(entry);
        });
        lastSeq += batch.length;
      }
    }).finally(() => { flushing = false; if (queue.length > 0) flush(); });
  };

  const compact = async (): Promise<void> => {
    const pending = spilled ? (await readSpoolFile(file, options.logger)).entries.filter((e) => e.seq > acked) : memory;
    const tmp = `${file}.tmp`;
    const text = pending.map((e) => JSON.stringify({ seq: e.seq, receipt: e.receipt }) + '\n').join('');
    await fs.writeFile(tmp, text, { mode: 0o600 });
    const t = await fs.open(tmp, 'r+');
    try { await t.datasync(); } finally { await t.close(); }
    await handle.close();
    await fs.rename(tmp, file);
    await syncDir(options.dir);
    handle = await fs.open(file, 'a', 0o600);
    fileBytes = Buffer.byteLength(text);
    fileLines = pending.length;
  };

  return {
    get pending() { return pendingCount; },
    append(receipt) {
      const json = JSON.stringify(receipt);
      const bytes = Buffer.byteLength(json) + 40;
      if (fileBytes + queuedBytes + bytes > maxBytes) {
        return Promise.reject(new KarsError('ROUTER_RECEIPT_SPOOL_FULL', 'the receipt spool is full'));
      }
      queuedBytes += bytes;
      return new Promise<SpooledReceipt>((resolve, reject) => {
        queue.push({ json, receipt, resolve, reject });
        flush();
      });
    },
    peek(max) {
      return serial(async () => {
        if (memory.length === 0 && spilled) fill((await readSpoolFile(file, options.logger)).entries);
        return memory.slice(0, max);
      });
    },
    ack(seq) {
      return serial(async () => {
        if (seq <= acked) return;
        await writeCursor(cursorFile, seq, options.dir);
        memory = memory.filter((e) => e.seq > seq);
        // Contiguous seqs: everything up to `seq` was written, so the pending count drops by the span acknowledged.
        pendingCount = Math.max(0, pendingCount - (Math.min(seq, lastSeq) - acked));
        acked = seq;
        if (pendingCount === 0 && fileBytes > 0) {
          // Everything shipped: empty the file (the cursor, already durable, keeps seqs increasing).
          await handle.truncate(0);
          await handle.datasync();
          fileBytes = 0;
          fileLines = 0;
        } else if (fileBytes > COMPACT_MIN_BYTES && pendingCount * 2 < fileLines) {
          await compact();
        }
      });
    },
    async close() {
      await serial(async () => { await handle.close(); });
    },
  };
}

async function readCursor(file: string): Promise<number> {
  try {
    const n = Number((await fs.readFile(file, 'utf8')).trim());
    return Number.isSafeInteger(n) && n >= 0 ? n : 0;
  } catch {
    return 0;
  }
}

async function writeCursor(file: string, seq: number, dir: string): Promise<void> {
  const tmp = `${file}.tmp`;
  const h = await fs.open(tmp, 'w', 0o600);
  try {
    await h.writeFile(String(seq));
    await h.datasync();
  } finally {
    await h.close();
  }
  await fs.rename(tmp, file);
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  const d = await fs.open(dir, 'r');
  try { await d.sync(); } catch { /* some filesystems refuse fsync on a directory */ } finally { await d.close(); }
}

/** Reads every whole line; cuts a torn last line off the file so later appends start on a line of their own. */
async function readSpoolFile(file: string, logger: Logger): Promise<{ entries: SpooledReceipt[]; maxSeq: number; bytes: number }> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], maxSeq: 0, bytes: 0 };
    throw e;
  }
  const end = buf.lastIndexOf(0x0a) + 1;
  if (end < buf.length) {
    await fs.truncate(file, end);
    logger.warn('router.receipts_spool_torn', { count: buf.length - end });
  }
  const entries: SpooledReceipt[] = [];
  let maxSeq = 0;
  let bad = 0;
  for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
    if (line === '') continue;
    try {
      const e = JSON.parse(line) as SpooledReceipt;
      if (!Number.isSafeInteger(e.seq) || typeof e.receipt !== 'object' || e.receipt === null) throw new Error('shape');
      entries.push(e);
      maxSeq = Math.max(maxSeq, e.seq);
    } catch {
      bad += 1;
    }
  }
  if (bad > 0) logger.error('router.receipts_spool_corrupt', { count: bad });
  return { entries, maxSeq, bytes: end };
}

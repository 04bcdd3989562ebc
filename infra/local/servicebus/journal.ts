// Local Service Bus stand-in: append-only journal so an acknowledged send survives a broker restart.
import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedQueueOptions } from './queue-options';

/** One state change; `e` is the entity key (lower-case queue name, `/$deadletterqueue` suffix for a DLQ). */
export type JournalRecord =
  | { t: 'queue'; e: string; o: ResolvedQueueOptions }
  /** The queue was deleted (with its messages and dead-letter queue). */
  | { t: 'drop'; e: string }
  | { t: 'seq'; e: string; s: number }
  | { t: 'enq'; e: string; s: number; at: number; n?: number; m: string }
  | { t: 'del'; e: string; s: number }
  | { t: 'dc'; e: string; s: number; n: number }
  | { t: 'dlq'; e: string; s: number; ns: number; at: number; n?: number; r?: string; d?: string; p?: Record<string, unknown> }
  | { t: 'state'; e: string; sid: string; v: string | null }
  | { t: 'dup'; e: string; id: string; until: number };

const FILE = 'servicebus-journal.log';

interface Pending {
  data: string;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * JSON lines, one record each. Appends are group-committed: everything queued while one write+fdatasync runs
 * goes out in the next, and each append resolves only after its bytes are on disk.
 */
export class Journal {
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;

  private constructor(private readonly dir: string, private handle: FileHandle) {}

  /** Reads whatever an earlier run left (a torn last line from a crash is dropped) and opens for append. */
  static async open(dir: string): Promise<{ journal: Journal; records: JournalRecord[] }> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, FILE);
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const records: JournalRecord[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        records.push(JSON.parse(line) as JournalRecord);
      } catch {
        break; // only the tail can be torn: everything before it was fsynced in order
      }
    }
    const handle = await open(path, 'a');
    return { journal: new Journal(dir, handle), records };
  }

  /** Replaces the file with a compact snapshot (write temp, fsync, rename, fsync directory). */
  async rewrite(records: readonly JournalRecord[]): Promise<void> {
    await this.drain();
    const path = join(this.dir, FILE);
    const tmp = `${path}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.handle.close();
    await rename(tmp, path);
    const dirHandle = await open(this.dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
    this.handle = await open(path, 'a');
  }

  /** Resolves once the records are durable. @throws when the disk write fails or the journal is closed. */
  append(records: readonly JournalRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('journal closed'));
    if (records.length === 0) return Promise.resolve();
    const data = records.map((r) => `${JSON.stringify(r)}\n`).join('');
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ data, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
    await this.handle.close();
  }

  private async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          await this.handle.write(batch.map((p) => p.data).join(''));
          await this.handle.datasync();
          for (const p of batch) p.resolve();
        } catch (e) {
          for (const p of batch) p.reject(e);
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }
}

// Append-only record log for the local stand-ins: a write is acknowledged only once it is on disk (fdatasync), a torn
// last record (SIGKILL or power loss mid-write) is detected by its checksum and cut off, and the file is compacted
// into a snapshot of the live state (then appended to as the tail) so a restart replays little.
import { appendFile, mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';

/** One JSON value per line, `<crc32 hex> <json>`. */
export type LogRecord = Record<string, unknown>;

export interface OpenedLog<R extends LogRecord> {
  log: DurableLog<R>;
  /** The intact records, oldest first. */
  records: R[];
  /** Bytes cut off the end because the last record was torn (0 after a clean stop); kept in `<file>.torn`. */
  tornBytes: number;
}

export interface DurableLogOptions<R extends LogRecord> {
  /** Live state as records, taken synchronously (it must reflect every record appended so far). */
  snapshot: () => R[];
  /** How many records a snapshot would hold now; compaction runs once the file holds `compactWhen` more. */
  liveCount: () => number;
  /** Compact when file records > liveCount * factor + slack. Defaults 2 and 10,000. */
  compactFactor?: number;
  compactSlack?: number;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

const NL = 0x0a;

function encode(record: LogRecord): string {
  const json = JSON.stringify(record);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

/** Parses the intact prefix; everything from the first bad or unterminated line on is a torn tail. */
function decode<R extends LogRecord>(bytes: Buffer): { records: R[]; validBytes: number } {
  const records: R[] = [];
  let start = 0;
  while (start < bytes.length) {
    const end = bytes.indexOf(NL, start);
    if (end < 0) break; // no newline: the write of this record never finished
    const line = bytes.subarray(start, end);
    if (line.length < 10 || line[8] !== 0x20) break;
    const json = line.subarray(9);
    if (crc32(json) !== Number.parseInt(line.subarray(0, 8).toString('latin1'), 16)) break;
    let value: unknown;
    try {
      value = JSON.parse(json.toString('utf8'));
    } catch {
      break;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) break;
    records.push(value as R);
    start = end + 1;
  }
  return { records, validBytes: start };
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Group commit: every record appended while one write+fdatasync runs goes out in the next one, so concurrent writers
 * share a sync. `durable()` resolves once everything appended before it is on disk. After a disk error the log is
 * failed for good (fail-stop): the in-memory state may then be ahead of the disk, so nothing more may be acknowledged.
 */
export class DurableLog<R extends LogRecord> {
  private pending: string[] = [];
  private appendedSeq = 0;
  private durableSeq = 0;
  private waiters: Waiter[] = [];
  private flushing: Promise<void> | undefined;
  private compactRequested = false;
  private failure: unknown;
  private closed = false;
  private fileRecords: number;
  private syncs = 0;

  private constructor(
    private readonly path: string,
    private handle: FileHandle,
    records: number,
    private readonly options: DurableLogOptions<R>,
  ) {
    this.fileRecords = records;
  }

  /**
   * Reads what an earlier run left and opens for append. A torn tail is cut off on disk before anything is appended
   * (appending after it would hide every later record behind the bad line).
   */
  static async open<R extends LogRecord>(path: string, options: DurableLogOptions<R>): Promise<OpenedLog<R>> {
    await mkdir(dirname(path), { recursive: true });
    let bytes = Buffer.alloc(0);
    let existed = true;
    try {
      bytes = await readFile(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      existed = false;
    }
    const { records, validBytes } = decode<R>(bytes);
    // Owner-only: the records hold what the stand-in stores (receipts, registrations), never meant for other users.
    const handle = await open(path, 'a', 0o600);
    const tornBytes = bytes.length - validBytes;
    if (tornBytes > 0) {
      // Nothing is destroyed: a tail that is not torn but damaged (a bad disk) can still be looked at by hand.
      await appendFile(`${path}.torn`, bytes.subarray(validBytes), { mode: 0o600 });
      await handle.truncate(validBytes);
      await handle.sync();
    }
    if (!existed) await syncDir(dirname(path));
    return { log: new DurableLog(path, handle, records.length, options), records, tornBytes };
  }

  /** Set once a write failed; nothing is acknowledged after it. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Records in the file now (snapshot + tail). */
  get recordsOnDisk(): number {
    return this.fileRecords;
  }

  /** Group commits (write + fdatasync, or snapshot) done so far. */
  get commits(): number {
    return this.syncs;
  }

  /** Queues a record (serialized now, so later changes to the object do not leak in). Durable once `durable()` says so. */
  append(record: R): void {
    if (this.closed) throw new Error('log closed');
    this.pending.push(encode(record));
    this.appendedSeq += 1;
    this.kick();
  }

  /** Resolves when every record appended so far is on disk. @throws the disk error once the log has failed. */
  durable(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.durableSeq >= this.appendedSeq) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ seq: this.appendedSeq, resolve, reject });
    });
  }

  /** Rewrites the file as a snapshot now (between two group commits). */
  compact(): Promise<void> {
    this.compactRequested = true;
    this.kick();
    return this.drain();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
    await this.handle.close();
  }

  private kick(): void {
    if (this.failure === undefined) this.flushing ??= this.flushLoop();
  }

  private async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.failure !== undefined) throw this.failure;
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0 || this.compactRequested) {
        const batch = this.pending;
        this.pending = [];
        const seq = this.appendedSeq; // everything appended up to now is in `batch` or already on disk
        if (this.compactRequested) {
          this.compactRequested = false;
          // The snapshot is taken here, synchronously: it holds every mutation whose record is in `batch`, so the
          // batch needs no write of its own. Records appended while the snapshot is written go to the new file.
          await this.writeSnapshot(this.options.snapshot().map(encode));
        } else {
          await this.handle.write(batch.join(''));
          await this.handle.datasync();
          this.fileRecords += batch.length;
        }
        this.durableSeq = seq;
        this.syncs += 1;
        while (this.waiters.length > 0 && this.waiters[0]!.seq <= this.durableSeq) this.waiters.shift()!.resolve();
        const factor = this.options.compactFactor ?? 2;
        const slack = this.options.compactSlack ?? 10_000;
        if (!this.closed && this.fileRecords > this.options.liveCount() * factor + slack) this.compactRequested = true;
      }
    } catch (e) {
      this.failure = e;
      this.pending = [];
      for (const w of this.waiters.splice(0)) w.reject(e);
    } finally {
      this.flushing = undefined;
    }
  }

  /** Temp file, fsync, rename over the log, fsync the directory: a crash leaves either the old file or the new one. */
  private async writeSnapshot(lines: string[]): Promise<void> {
    const tmp = join(dirname(this.path), `.${basename(this.path)}.compact`);
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(lines.join(''));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.handle.close();
    await rename(tmp, this.path);
    await syncDir(dirname(this.path));
    this.handle = await open(this.path, 'a', 0o600);
    this.fileRecords = lines.length;
  }
}

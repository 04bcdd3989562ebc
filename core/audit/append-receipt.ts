// T1-R/T2-R/T4-R: appends receipts to N chains from many Function instances at once without forks, gaps or a global lock,
// in group commits: one chain entry per batch of receipts.
//
// Why it is safe without a lock: entry n of chain c is the document `<c>:<n>` in partition c, and the store refuses a
// second create of the same id, so two writers can never both own seq n (no fork). A writer builds n only from entry
// n-1 that it created or read (no gap). Losing the race costs a 409 and a catch-up read, nothing else.
//
// Why batches: one chain advances one entry per store round trip. Receipts that arrive while a chain's write is in
// flight wait for it anyway, so they are written together in the next entry as soon as it commits (no timer: an idle
// chain writes a lone receipt at once). The entry holds the RFC 9162 tree head over its receipts, so each receipt
// keeps its own inclusion proof.
import { KarsError, isKarsError } from '../errors';
import type { Clock } from '../ports/clock.port';
import type { Logger } from '../ports/logger.port';
import { silentLogger } from '../ports/logger.port';
import type { AppendedReceipt, AppendReceiptOptions, AuditReceiptInput, ReceiptLog } from '../ports/receipt-log.port';
import type { ReceiptStore, StoredRecord } from '../ports/receipt-store.port';
import { assertChainLayout, chainForSubject, DEFAULT_CHAIN_LAYOUT } from './chain-select';
import type { ChainLayout } from './chain-select';
import type { Checkpoint, CheckpointStatement } from './checkpoint';
import type { CheckpointSigner } from './checkpoint-signer';
import { GroupCommit } from './group-commit';
import {
  assertChainName, GENESIS_HASH, isHex64, MAX_ENTRY_RECEIPTS, parseEntryId, PreparedBatch, PreparedReceipt, receiptId,
} from './receipt';
import type { ChainEntry } from './receipt';

export type { AppendedReceipt, AppendReceiptOptions } from '../ports/receipt-log.port';

export interface ReceiptAppenderOptions {
  clock: Clock;
  layout?: ChainLayout;
  /** Without a signer no checkpoints are written (the verifier then cannot detect tail truncation). */
  signer?: CheckpointSigner;
  /** Sign a checkpoint whenever the entry seq is a multiple of this. Default 64. */
  checkpointEvery?: number;
  /** Move the head hint forward whenever the entry seq is a multiple of this. Default 8. */
  headHintEvery?: number;
  /**
   * Create attempts per entry before giving up with AUDIT_APPEND_CONTENDED. Default 512: every lost race means another
   * writer advanced the chain, so losing is progress, not failure; at 32 one of 4 racing writer processes gave up in
   * about a third of runs of tests/integration/audit/concurrent-writers.test.ts while the others kept winning.
   */
  maxAttempts?: number;
  /** Forward point reads while catching up before falling back to a query. Default 32. */
  maxCatchUpReads?: number;
  /** Receipts per entry at most, 1..256. Default 256; 1 writes one entry per receipt (the layout before batching). */
  maxBatchReceipts?: number;
  /** Canonical JSON bytes of the receipts per entry at most (a lone larger receipt still gets its entry). Default 256 KiB. */
  maxBatchBytes?: number;
  /**
   * Receipts waiting for one chain's next entry at most; beyond it appends fail at once with AUDIT_BACKLOG_FULL
   * (back-pressure: the store is slower than the arrivals). Default 4096 (16 full entries).
   */
  maxQueuedPerChain?: number;
  /** Receipts waiting over all chains at most. Default 65536. */
  maxQueuedTotal?: number;
  logger?: Logger;
}

interface Tip {
  seq: number;
  hash: string;
}

const SUBJECT_CACHE_SIZE = 4096;
/** A writer with a full queue reads before every this-many-th consecutive entry, so racing writers get turns. */
const FAIR_STREAK = 2;
const MAX_LANE_KEY_CHARS = 256;
const DEFAULTS = {
  checkpointEvery: 64, headHintEvery: 8, maxAttempts: 512, maxCatchUpReads: 32, maxBatchReceipts: MAX_ENTRY_RECEIPTS,
  maxBatchBytes: 256 * 1024, maxQueuedPerChain: 4096, maxQueuedTotal: 65_536,
};

/**
 * One per process (Function instance, router, relay). It remembers each chain's tip, so an uncontended entry is one
 * create. Entries of the same chain from this process are written one after another (they could only collide);
 * different chains, and other processes, proceed in parallel.
 */
export class ReceiptAppender implements ReceiptLog {
  readonly #store: ReceiptStore;
  readonly #clock: Clock;
  readonly #layout: ChainLayout;
  readonly #signer: CheckpointSigner | undefined;
  readonly #checkpointEvery: number;
  readonly #headHintEvery: number;
  readonly #maxAttempts: number;
  readonly #maxCatchUpReads: number;
  readonly #maxBatchReceipts: number;
  readonly #logger: Logger;
  readonly #tips = new Map<string, Tip>();
  readonly #hintEtags = new Map<string, { seq: number; etag: string }>();
  readonly #registered = new Set<string>();
  readonly #commits: GroupCommit<PreparedReceipt, AppendedReceipt>;
  /** Head hint and checkpoint work after a commit, per chain, off the callers' path. */
  readonly #upkeep = new Map<string, Promise<void>>();
  readonly #chainOfSubject = new Map<string, string>();
  /** Per chain: entries written back to back, when the last one committed and how long its write took. */
  readonly #busy = new Map<string, { streak: number; lastCommitMs: number; lastWriteMs: number }>();

  constructor(store: ReceiptStore, options: ReceiptAppenderOptions) {
    this.#store = store;
    this.#clock = options.clock;
    this.#layout = options.layout ?? DEFAULT_CHAIN_LAYOUT;
    assertChainLayout(this.#layout);
    this.#signer = options.signer;
    this.#checkpointEvery = positiveInt(options.checkpointEvery ?? DEFAULTS.checkpointEvery, 'checkpointEvery');
    this.#headHintEvery = positiveInt(options.headHintEvery ?? DEFAULTS.headHintEvery, 'headHintEvery');
    this.#maxAttempts = positiveInt(options.maxAttempts ?? DEFAULTS.maxAttempts, 'maxAttempts');
    this.#maxCatchUpReads = positiveInt(options.maxCatchUpReads ?? DEFAULTS.maxCatchUpReads, 'maxCatchUpReads');
    this.#maxBatchReceipts = positiveInt(options.maxBatchReceipts ?? DEFAULTS.maxBatchReceipts, 'maxBatchReceipts');
    if (this.#maxBatchReceipts > MAX_ENTRY_RECEIPTS) throw new KarsError('CONFIG_INVALID', `maxBatchReceipts must be at most ${MAX_ENTRY_RECEIPTS}`);
    const maxBatchBytes = positiveInt(options.maxBatchBytes ?? DEFAULTS.maxBatchBytes, 'maxBatchBytes');
    this.#commits = new GroupCommit((chain, receipts) => this.#writeBatch(chain, receipts), {
      maxItems: this.#maxBatchReceipts, maxBytes: maxBatchBytes, aborted,
      maxQueuedPerKey: positiveInt(options.maxQueuedPerChain ?? DEFAULTS.maxQueuedPerChain, 'maxQueuedPerChain'),
      maxQueuedTotal: positiveInt(options.maxQueuedTotal ?? DEFAULTS.maxQueuedTotal, 'maxQueuedTotal'),
      overloaded: backlogFull,
    });
    this.#logger = options.logger ?? silentLogger;
  }

  /** The chain a subject's receipts go to (or, with a lane key, this one of them). @throws KarsError INPUT_INVALID */
  chainFor(subject: string, laneKey?: string): string {
    if (laneKey !== undefined) {
      if (typeof laneKey !== 'string' || laneKey.length === 0 || laneKey.length > MAX_LANE_KEY_CHARS) {
        throw new KarsError('INPUT_INVALID', `receipt lane key must be 1..${MAX_LANE_KEY_CHARS} characters`);
      }
      // Subjects hold no control characters, so the newline keeps (subject, lane key) pairs apart.
      return chainForSubject(this.#layout, `${subject}\n${laneKey}`);
    }
    let chain = this.#chainOfSubject.get(subject);
    if (chain === undefined) {
      chain = chainForSubject(this.#layout, subject);
      // Bounded: subjects come from outside (tenants, DIDs); forgetting costs one hash.
      if (this.#chainOfSubject.size >= SUBJECT_CACHE_SIZE) this.#chainOfSubject.clear();
      this.#chainOfSubject.set(subject, chain);
    }
    return chain;
  }

  /**
   * Records the receipt in its chain's next entry; resolves once that entry is stored. If the store call fails
   * ambiguously (timeout) the entry may or may not exist: a retry by the caller then records the receipt again later
   * (at-least-once), never as a fork. An abort stops the wait, not a write already in flight.
   * @throws KarsError INPUT_INVALID | AUDIT_APPEND_CONTENDED | AUDIT_CHAIN_BROKEN | STORE_UNAVAILABLE
   */
  append(input: AuditReceiptInput, options?: AppendReceiptOptions): Promise<AppendedReceipt> {
    try {
      if (options?.abortSignal?.aborted) throw aborted();
      const prepared = new PreparedReceipt(input);
      return this.#submit(this.chainFor(prepared.subject, options?.laneKey), prepared, options?.abortSignal);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Appends to an explicit chain (tests, benchmarks, and callers with their own placement). */
  appendToChain(chain: string, input: AuditReceiptInput, options?: AppendReceiptOptions): Promise<AppendedReceipt> {
    try {
      assertChainName(chain);
      if (options?.abortSignal?.aborted) throw aborted();
      return this.#submit(chain, new PreparedReceipt(input), options?.abortSignal);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Resolves when the head hint and checkpoint work started by earlier commits is done (tests, shutdown). */
  async whenIdle(): Promise<void> {
    while (this.#upkeep.size > 0) await Promise.all([...this.#upkeep.values()]);
  }

  /**
   * Signs and stores a checkpoint over the chain's current tip now (on demand, e.g. before an export, at shutdown, or
   * so that `kars audit prove` can verify the newest receipts). @returns undefined for an empty chain.
   * @throws KarsError CONFIG_INVALID without a signer
   */
  async checkpoint(chain: string, options?: { abortSignal?: AbortSignal }): Promise<Checkpoint | undefined> {
    assertChainName(chain);
    const signer = this.#signer;
    if (!signer) throw new KarsError('CONFIG_INVALID', 'no checkpoint signer configured');
    const abortSignal = options?.abortSignal;
    const tip = await this.#discoverTip(chain, abortSignal);
    if (tip.seq === 0) return undefined;
    const at = await this.#store.readEntry(chain, tip.seq, { abortSignal });
    if (!at) throw brokenTip(chain, `entry ${tip.seq} vanished`);
    const checkpoint = await signer.sign(statementOf(chain, at, tip, this.#clock.nowMs()), { abortSignal });
    try {
      await this.#store.createCheckpoint(checkpoint, { abortSignal });
    } catch (e) {
      // Same seq already checkpointed: that one vouches for the same entry, since ids rule out forks.
      if (!(isKarsError(e) && e.code === 'STORE_CONFLICT')) throw e;
    }
    return checkpoint;
  }

  #submit(chain: string, prepared: PreparedReceipt, abortSignal: AbortSignal | undefined): Promise<AppendedReceipt> {
    return this.#commits.submit(chain, prepared, Buffer.byteLength(prepared.leafJson), abortSignal);
  }

  /** One entry for the batch: the chain's next seq, then one AppendedReceipt per receipt, in order. */
  async #writeBatch(chain: string, receipts: readonly PreparedReceipt[]): Promise<AppendedReceipt[]> {
    const entry = await this.#writeEntry(chain, new PreparedBatch(receipts), this.#nextIsStreak(chain));
    return receipts.map((r, index) => ({
      id: receiptId(chain, entry.seq, index), chain, seq: entry.seq, index, size: entry.size,
      leafHash: r.leafHash.toString('hex'), treeHead: entry.treeHead, entryHash: entry.hash, timeMs: entry.timeMs,
    }));
  }

  /**
   * Counts entries this process writes back to back on a chain: the next one starts within one write's duration of the
   * last commit (callers answered by one commit often append again right away, in a new drain). True for every
   * FAIR_STREAK-th of them. An idle chain starts a new streak, so a lone receipt never waits for the fairness read.
   */
  #nextIsStreak(chain: string): boolean {
    const now = this.#clock.nowMs();
    const busy = this.#busy.get(chain);
    const streak = busy && now - busy.lastCommitMs <= busy.lastWriteMs ? busy.streak + 1 : 1;
    this.#busy.set(chain, { streak, lastCommitMs: busy?.lastCommitMs ?? now, lastWriteMs: busy?.lastWriteMs ?? 0 });
    return streak % FAIR_STREAK === 0;
  }

  async #writeEntry(chain: string, batch: PreparedBatch, yieldFirst: boolean): Promise<ChainEntry> {
    await this.#register(chain, undefined);
    let tip = this.#tips.get(chain) ?? await this.#discoverTip(chain, undefined);
    if (yieldFirst) {
      // Fairness: a writer that lost a race needs a read and a create to try again, while one with a cached tip and a
      // full queue needs only a create, so it would win every time and starve the others. Every FAIR_STREAK-th entry
      // in a row this writer first reads the next seq twice (adopting a newer tip if another writer got there): a
      // writer that has just lost is then a round trip ahead and takes that seq.
      for (let read = 0; read < 3; read += 1) {
        const next = await this.#store.readEntry(chain, tip.seq + 1);
        if (next) {
          tip = await this.#walkForward(chain, tipOf(next, tip.seq + 1), undefined);
          break;
        }
      }
    }
    let lost = 0;
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt += 1) {
      const startedMs = this.#clock.nowMs();
      const entry = batch.entryAfter(chain, tip.seq, tip.hash, startedMs);
      try {
        await this.#store.createEntry(entry);
      } catch (e) {
        if (!(isKarsError(e) && e.code === 'STORE_CONFLICT')) {
          this.#tips.delete(chain); // outcome unknown: rediscover next time
          throw e;
        }
        lost += 1;
        tip = await this.#catchUp(chain, tip, lost, undefined);
        continue;
      }
      this.#tips.set(chain, { seq: entry.seq, hash: entry.hash });
      const committedMs = this.#clock.nowMs();
      const busy = this.#busy.get(chain);
      this.#busy.set(chain, { streak: busy?.streak ?? 1, lastCommitMs: committedMs, lastWriteMs: Math.max(1, committedMs - startedMs) });
      this.#afterCommit(entry);
      return entry;
    }
    this.#tips.delete(chain);
    this.#logger.warn('audit.append_contended', { chain, count: this.#maxAttempts });
    throw new KarsError('AUDIT_APPEND_CONTENDED', `chain ${chain}: lost ${this.#maxAttempts} append races in a row`);
  }

  /** Head hint and checkpoint after a commit: queued per chain, never on the callers' path (their entry is durable). */
  #afterCommit(entry: ChainEntry): void {
    const hint = entry.seq === 1 || entry.seq % this.#headHintEvery === 0;
    const checkpoint = this.#signer !== undefined && entry.seq % this.#checkpointEvery === 0;
    if (!hint && !checkpoint) return;
    const chain = entry.chain;
    const previous = this.#upkeep.get(chain) ?? Promise.resolve();
    const next = previous.then(async () => {
      if (hint) await this.#advanceHint(entry);
      if (checkpoint) await this.#signCheckpoint(entry);
    });
    this.#upkeep.set(chain, next);
    void next.then(() => {
      if (this.#upkeep.get(chain) === next) this.#upkeep.delete(chain);
    });
  }

  async #signCheckpoint(entry: ChainEntry): Promise<void> {
    try {
      const checkpoint = await this.#signer!.sign({
        chain: entry.chain, seq: entry.seq, hash: entry.hash, timeMs: this.#clock.nowMs(), treeHead: entry.treeHead, size: entry.size,
      });
      await this.#store.createCheckpoint(checkpoint);
    } catch (e) {
      // The entry is committed; a missing checkpoint only widens the unsigned window until the next one.
      if (!(isKarsError(e) && e.code === 'STORE_CONFLICT')) {
        this.#logger.warn('audit.checkpoint_failed', { chain: entry.chain, seq: entry.seq, code: codeOf(e) });
      }
    }
  }

  /** Finds the tip from the hint (confirmed by reading the receipt it names) or, failing that, by query. */
  async #discoverTip(chain: string, abortSignal: AbortSignal | undefined): Promise<Tip> {
    const hint = await this.#readHint(chain, abortSignal);
    if (hint && hint.seq > 0) {
      const at = await this.#store.readEntry(chain, hint.seq, { abortSignal });
      if (at) return this.#walkForward(chain, tipOf(at, hint.seq), abortSignal);
    }
    const last = await this.#store.readLastEntry(chain, { abortSignal });
    if (!last) return { seq: 0, hash: GENESIS_HASH };
    const parsed = parseEntryId(last.id);
    if (!parsed || parsed.chain !== chain) throw brokenTip(chain, 'last entry has a malformed id');
    return this.#walkForward(chain, tipOf(last, parsed.seq), abortSignal);
  }

  /**
   * After losing the race for tip.seq+1: that receipt now exists; read forward from it to the first free seq, so the
   * retry starts from a freshly observed tip. After repeated losses (this instance is evidently far behind), jump
   * ahead via the hint first.
   */
  async #catchUp(chain: string, tip: Tip, lost: number, abortSignal: AbortSignal | undefined): Promise<Tip> {
    if (lost % 8 === 0) {
      // Lost often: this instance may be far behind (a stale cache); jump ahead via the hint.
      const hint = await this.#readHint(chain, abortSignal);
      if (hint && hint.seq > tip.seq + 1) {
        const at = await this.#store.readEntry(chain, hint.seq, { abortSignal });
        if (at) return this.#walkForward(chain, tipOf(at, hint.seq), abortSignal);
      }
    }
    const next = await this.#store.readEntry(chain, tip.seq + 1, { abortSignal });
    if (!next) return this.#discoverTip(chain, abortSignal); // it vanished between our 409 and this read
    // Try right after the entry that won (one read per lost race): reading on to confirm the seq is free would cost
    // another round trip, in which a busy writer with a cached tip takes it again.
    return tipOf(next, tip.seq + 1);
  }

  async #walkForward(chain: string, from: Tip, abortSignal: AbortSignal | undefined): Promise<Tip> {
    let tip = from;
    for (let i = 0; i < this.#maxCatchUpReads; i += 1) {
      const next = await this.#store.readEntry(chain, tip.seq + 1, { abortSignal });
      if (!next) return tip;
      tip = tipOf(next, tip.seq + 1);
    }
    // Far behind (a cold instance with a stale hint): one query is cheaper than many point reads.
    const last = await this.#store.readLastEntry(chain, { abortSignal });
    const parsed = last ? parseEntryId(last.id) : undefined;
    return last && parsed && parsed.chain === chain && parsed.seq > tip.seq ? tipOf(last, parsed.seq) : tip;
  }

  /** Moves the hint forward, never back; a lost race or a failure is fine because it is only a hint. */
  async #advanceHint(receipt: ChainEntry): Promise<void> {
    const hint = { chain: receipt.chain, seq: receipt.seq, hash: receipt.hash };
    try {
      for (let round = 0; round < 2; round += 1) {
        let known = this.#hintEtags.get(receipt.chain);
        if (!known) {
          const stored = await this.#store.readHeadHint(receipt.chain);
          if (!stored) {
            const etag = await this.#store.writeHeadHint(hint);
            this.#hintEtags.set(receipt.chain, { seq: hint.seq, etag });
            return;
          }
          known = { seq: stored.hint.seq, etag: stored.etag };
        }
        if (known.seq >= hint.seq) return;
        try {
          const etag = await this.#store.writeHeadHint(hint, { ifMatch: known.etag });
          this.#hintEtags.set(receipt.chain, { seq: hint.seq, etag });
          return;
        } catch (e) {
          if (!(isKarsError(e) && (e.code === 'STORE_PRECONDITION_FAILED' || e.code === 'STORE_NOT_FOUND'))) throw e;
          this.#hintEtags.delete(receipt.chain); // someone else moved it: re-read once
        }
      }
    } catch (e) {
      this.#hintEtags.delete(receipt.chain);
      if (!(isKarsError(e) && e.code === 'STORE_CONFLICT')) {
        this.#logger.warn('audit.head_hint_failed', { chain: receipt.chain, seq: receipt.seq, code: codeOf(e) });
      }
    }
  }

  async #readHint(chain: string, abortSignal: AbortSignal | undefined): Promise<{ seq: number } | undefined> {
    try {
      const stored = await this.#store.readHeadHint(chain, { abortSignal });
      if (stored) this.#hintEtags.set(chain, { seq: stored.hint.seq, etag: stored.etag });
      return stored?.hint;
    } catch (e) {
      this.#logger.warn('audit.head_hint_failed', { chain, code: codeOf(e) });
      return undefined;
    }
  }

  async #register(chain: string, abortSignal: AbortSignal | undefined): Promise<void> {
    if (this.#registered.has(chain)) return;
    try {
      await this.#store.registerChain(chain, { abortSignal });
      this.#registered.add(chain);
    } catch (e) {
      // The verifier also walks every chain of the configured layout; retry registration on the next append.
      this.#logger.warn('audit.register_chain_failed', { chain, code: codeOf(e) });
    }
  }
}

function tipOf(record: StoredRecord, seq: number): Tip {
  const hash = record.body['hash'];
  if (!isHex64(hash) || record.body['seq'] !== seq) throw brokenTip(record.id.split(':')[0] ?? '?', `entry ${seq} is malformed`);
  return { seq, hash };
}

function brokenTip(chain: string, why: string): KarsError {
  return new KarsError('AUDIT_CHAIN_BROKEN', `chain ${chain}: ${why}; run kars audit verify`);
}

function codeOf(e: unknown): string {
  return isKarsError(e) ? e.code : 'INTERNAL';
}

function positiveInt(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new KarsError('CONFIG_INVALID', `${name} must be a positive integer`);
  return n;
}

/** What a checkpoint over a stored entry says: its link hash and, for a batch entry, its tree head and size. */
function statementOf(chain: string, record: StoredRecord, tip: Tip, timeMs: number): CheckpointStatement {
  const { treeHead, size, v } = record.body;
  if (v === 2) {
    if (!isHex64(treeHead) || !Number.isSafeInteger(size)) throw brokenTip(chain, `entry ${tip.seq} is malformed`);
    return { chain, seq: tip.seq, hash: tip.hash, timeMs, treeHead, size: size as number };
  }
  return { chain, seq: tip.seq, hash: tip.hash, timeMs };
}

function backlogFull(): KarsError {
  return new KarsError('AUDIT_BACKLOG_FULL', 'too many receipts waiting for the chain store; retry');
}

function aborted(): KarsError {
  return new KarsError('STORE_UNAVAILABLE', 'receipt append aborted');
}

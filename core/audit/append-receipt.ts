// T1-R/T2-R/T4-R: appends receipts to N chains from many Function instances at once without forks, gaps or a global lock.
//
// Why it is safe without a lock: receipt n of chain c is the document `<c>:<n>` in partition c, and the store refuses a
// second create of the same id, so two writers can never both own seq n (no fork). A writer builds n only from
// receipt n-1 that it created or read (no gap). Losing the race costs a 409 and a catch-up read, nothing else.
import { KarsError, isKarsError } from '../errors';
import type { Clock } from '../ports/clock.port';
import type { Logger } from '../ports/logger.port';
import { silentLogger } from '../ports/logger.port';
import type { ReceiptStore, StoredRecord } from '../ports/receipt-store.port';
import { assertChainLayout, chainForSubject, DEFAULT_CHAIN_LAYOUT } from './chain-select';
import type { ChainLayout } from './chain-select';
import type { Checkpoint } from './checkpoint';
import type { CheckpointSigner } from './checkpoint-signer';
import { assertChainName, buildReceipt, GENESIS_HASH, isHex64, parseReceiptId, PreparedReceiptInput } from './receipt';
import type { Receipt, ReceiptInput } from './receipt';

export interface ReceiptAppenderOptions {
  clock: Clock;
  layout?: ChainLayout;
  /** Without a signer no checkpoints are written (the verifier then cannot detect tail truncation). */
  signer?: CheckpointSigner;
  /** Sign a checkpoint whenever seq is a multiple of this. Default 64. */
  checkpointEvery?: number;
  /** Move the head hint forward whenever seq is a multiple of this. Default 8. */
  headHintEvery?: number;
  /** Create attempts per append before giving up with AUDIT_APPEND_CONTENDED. Default 32. */
  maxAttempts?: number;
  /** Forward point reads while catching up before falling back to a query. Default 32. */
  maxCatchUpReads?: number;
  logger?: Logger;
}

export interface AppendReceiptOptions {
  abortSignal?: AbortSignal;
  /**
   * Spreads one subject's receipts over the layout's chains by this key (the edge passes the request hash): a busy
   * subject's receipt rate then grows with the chain count instead of being one chain's rate (one append per store
   * round trip). Its receipts stay ordered within each chain, not across chains. 1..256 characters.
   */
  laneKey?: string;
}

interface Tip {
  seq: number;
  hash: string;
}

const SUBJECT_CACHE_SIZE = 4096;
const MAX_LANE_KEY_CHARS = 256;
const DEFAULTS = { checkpointEvery: 64, headHintEvery: 8, maxAttempts: 32, maxCatchUpReads: 32 };

/**
 * One per process (Function instance, router). It remembers each chain's tip, so an uncontended append is one create.
 * Appends to the same chain from this process run one after another (they would only collide with each other);
 * different chains, and other processes, proceed in parallel.
 */
export class ReceiptAppender {
  readonly #store: ReceiptStore;
  readonly #clock: Clock;
  readonly #layout: ChainLayout;
  readonly #signer: CheckpointSigner | undefined;
  readonly #checkpointEvery: number;
  readonly #headHintEvery: number;
  readonly #maxAttempts: number;
  readonly #maxCatchUpReads: number;
  readonly #logger: Logger;
  readonly #tips = new Map<string, Tip>();
  readonly #hintEtags = new Map<string, { seq: number; etag: string }>();
  readonly #registered = new Set<string>();
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #chainOfSubject = new Map<string, string>();

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
   * Appends to the subject's chain. If the store call fails ambiguously (timeout) the receipt may or may not exist;
   * a retry by the caller then records it again at a later seq (at-least-once), never as a fork.
   * @throws KarsError INPUT_INVALID | AUDIT_APPEND_CONTENDED | AUDIT_CHAIN_BROKEN | STORE_UNAVAILABLE
   */
  async append(input: ReceiptInput, options?: AppendReceiptOptions): Promise<Receipt> {
    const prepared = new PreparedReceiptInput(input);
    const chain = this.chainFor(prepared.subject, options?.laneKey);
    return this.#serial(chain, () => this.#append(chain, prepared, options?.abortSignal));
  }

  /** Appends to an explicit chain (tests, benchmarks, and callers with their own placement). */
  async appendToChain(chain: string, input: ReceiptInput, options?: AppendReceiptOptions): Promise<Receipt> {
    assertChainName(chain);
    const prepared = new PreparedReceiptInput(input);
    return this.#serial(chain, () => this.#append(chain, prepared, options?.abortSignal));
  }

  /**
   * Signs and stores a checkpoint over the chain's current tip now (on demand, e.g. before an export or at shutdown).
   * @returns undefined for an empty chain. @throws KarsError CONFIG_INVALID without a signer
   */
  async checkpoint(chain: string, options?: AppendReceiptOptions): Promise<Checkpoint | undefined> {
    assertChainName(chain);
    const signer = this.#signer;
    if (!signer) throw new KarsError('CONFIG_INVALID', 'no checkpoint signer configured');
    return this.#serial(chain, async () => {
      const tip = await this.#discoverTip(chain, options?.abortSignal);
      this.#tips.set(chain, tip);
      if (tip.seq === 0) return undefined;
      const checkpoint = await signer.sign({ chain, seq: tip.seq, hash: tip.hash, timeMs: this.#clock.nowMs() }, options);
      try {
        await this.#store.createCheckpoint(checkpoint, options);
      } catch (e) {
        // Same seq already checkpointed: that one vouches for the same (seq, hash), since ids rule out forks.
        if (!(isKarsError(e) && e.code === 'STORE_CONFLICT')) throw e;
      }
      return checkpoint;
    });
  }

  async #append(chain: string, input: PreparedReceiptInput, abortSignal: AbortSignal | undefined): Promise<Receipt> {
    await this.#register(chain, abortSignal);
    let tip = this.#tips.get(chain) ?? await this.#discoverTip(chain, abortSignal);
    let lost = 0;
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt += 1) {
      const receipt = buildReceipt(chain, tip.seq, tip.hash, this.#clock.nowMs(), input);
      try {
        await this.#store.createReceipt(receipt, { abortSignal });
      } catch (e) {
        if (!(isKarsError(e) && e.code === 'STORE_CONFLICT')) {
          this.#tips.delete(chain); // outcome unknown: rediscover next time
          throw e;
        }
        lost += 1;
        tip = await this.#catchUp(chain, tip, lost, abortSignal);
        continue;
      }
      this.#tips.set(chain, { seq: receipt.seq, hash: receipt.hash });
      await this.#afterAppend(receipt, abortSignal);
      return receipt;
    }
    this.#tips.delete(chain);
    this.#logger.warn('audit.append_contended', { chain, count: this.#maxAttempts });
    throw new KarsError('AUDIT_APPEND_CONTENDED', `chain ${chain}: lost ${this.#maxAttempts} append races in a row`);
  }

  /** Finds the tip from the hint (confirmed by reading the receipt it names) or, failing that, by query. */
  async #discoverTip(chain: string, abortSignal: AbortSignal | undefined): Promise<Tip> {
    const hint = await this.#readHint(chain, abortSignal);
    if (hint && hint.seq > 0) {
      const at = await this.#store.readReceipt(chain, hint.seq, { abortSignal });
      if (at) return this.#walkForward(chain, tipOf(at, hint.seq), abortSignal);
    }
    const last = await this.#store.readLastReceipt(chain, { abortSignal });
    if (!last) return { seq: 0, hash: GENESIS_HASH };
    const parsed = parseReceiptId(last.id);
    if (!parsed || parsed.chain !== chain) throw brokenTip(chain, 'last receipt has a malformed id');
    return this.#walkForward(chain, tipOf(last, parsed.seq), abortSignal);
  }

  /**
   * After losing the race for tip.seq+1: that receipt now exists; read forward from it to the first free seq, so the
   * retry starts from a freshly observed tip. After repeated losses (this instance is evidently far behind), jump
   * ahead via the hint first.
   */
  async #catchUp(chain: string, tip: Tip, lost: number, abortSignal: AbortSignal | undefined): Promise<Tip> {
    if (lost >= 3) {
      const hint = await this.#readHint(chain, abortSignal);
      if (hint && hint.seq > tip.seq + 1) {
        const at = await this.#store.readReceipt(chain, hint.seq, { abortSignal });
        if (at) return this.#walkForward(chain, tipOf(at, hint.seq), abortSignal);
      }
    }
    const next = await this.#store.readReceipt(chain, tip.seq + 1, { abortSignal });
    if (!next) return this.#discoverTip(chain, abortSignal); // it vanished between our 409 and this read
    return this.#walkForward(chain, tipOf(next, tip.seq + 1), abortSignal);
  }

  async #walkForward(chain: string, from: Tip, abortSignal: AbortSignal | undefined): Promise<Tip> {
    let tip = from;
    for (let i = 0; i < this.#maxCatchUpReads; i += 1) {
      const next = await this.#store.readReceipt(chain, tip.seq + 1, { abortSignal });
      if (!next) return tip;
      tip = tipOf(next, tip.seq + 1);
    }
    // Far behind (a cold instance with a stale hint): one query is cheaper than many point reads.
    const last = await this.#store.readLastReceipt(chain, { abortSignal });
    const parsed = last ? parseReceiptId(last.id) : undefined;
    return last && parsed && parsed.chain === chain && parsed.seq > tip.seq ? tipOf(last, parsed.seq) : tip;
  }

  async #afterAppend(receipt: Receipt, abortSignal: AbortSignal | undefined): Promise<void> {
    if (receipt.seq === 1 || receipt.seq % this.#headHintEvery === 0) await this.#advanceHint(receipt, abortSignal);
    if (this.#signer && receipt.seq % this.#checkpointEvery === 0) {
      try {
        const checkpoint = await this.#signer.sign(
          { chain: receipt.chain, seq: receipt.seq, hash: receipt.hash, timeMs: this.#clock.nowMs() }, { abortSignal },
        );
        await this.#store.createCheckpoint(checkpoint, { abortSignal });
      } catch (e) {
        // The receipt is committed; a missing checkpoint only widens the unsigned window until the next one.
        if (!(isKarsError(e) && e.code === 'STORE_CONFLICT')) {
          this.#logger.warn('audit.checkpoint_failed', { chain: receipt.chain, seq: receipt.seq, code: codeOf(e) });
        }
      }
    }
  }

  /** Moves the hint forward, never back; a lost race or a failure is fine because it is only a hint. */
  async #advanceHint(receipt: Receipt, abortSignal: AbortSignal | undefined): Promise<void> {
    const hint = { chain: receipt.chain, seq: receipt.seq, hash: receipt.hash };
    try {
      for (let round = 0; round < 2; round += 1) {
        let known = this.#hintEtags.get(receipt.chain);
        if (!known) {
          const stored = await this.#store.readHeadHint(receipt.chain, { abortSignal });
          if (!stored) {
            const etag = await this.#store.writeHeadHint(hint, { abortSignal });
            this.#hintEtags.set(receipt.chain, { seq: hint.seq, etag });
            return;
          }
          known = { seq: stored.hint.seq, etag: stored.etag };
        }
        if (known.seq >= hint.seq) return;
        try {
          const etag = await this.#store.writeHeadHint(hint, { abortSignal, ifMatch: known.etag });
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

  #serial<T>(chain: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(chain) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.catch(() => undefined);
    this.#queues.set(chain, tail);
    void tail.then(() => {
      if (this.#queues.get(chain) === tail) this.#queues.delete(chain);
    });
    return run;
  }
}

function tipOf(record: StoredRecord, seq: number): Tip {
  const hash = record.body['hash'];
  if (!isHex64(hash) || record.body['seq'] !== seq) throw brokenTip(record.id.split(':')[0] ?? '?', `receipt ${seq} is malformed`);
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

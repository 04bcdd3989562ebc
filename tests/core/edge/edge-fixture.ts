// Test fixture for the edge pipeline: real memory adapters (document store, secrets, queue, receipts), the real
// registry / replay guard / in-process limiter adapters, a settable clock, a JSON logger whose lines are kept, and
// signers that use the providers' own libraries (standardwebhooks, @octokit/webhooks-methods) or their documented
// algorithm (Slack v0, Teams HMAC) where no library exists.
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { createDocumentHookRegistry, type DocumentHookRegistryOptions } from '../../../adapters/edge/document-hook-registry';
import { createDocumentReplayGuard } from '../../../adapters/edge/document-replay-guard';
import { createLocalEdgeLimiter, type LocalEdgeLimiterOptions } from '../../../adapters/edge/local-edge-limiter';
import { captureLogs } from '../../support/log-sink';
import { MemoryDocumentStore } from '../../../adapters/memory/memory-document-store';
import { createMemoryEdgeQueue, type MemoryEdgeQueue } from '../../../adapters/memory/memory-edge-queue';
import { createMemoryReceiptSink, type MemoryReceiptSink } from '../../../adapters/memory/memory-edge-receipts';
import { createMemorySecretSource, type MemorySecretSource } from '../../../adapters/memory/memory-secrets';
import type { EdgePipelineOptions, EdgeRequest } from '../../../core/edge/edge-types';
import { createEdgePipeline, type EdgePipeline } from '../../../core/edge/run-edge-pipeline';
import type { EdgeLimiter } from '../../../core/ports/edge-limiter.port';
import type { CreateHookInput, HookRegistration, HookRegistry } from '../../../core/ports/hook-registry.port';
import type { ReplayGuard } from '../../../core/ports/replay-guard.port';
import type { DocumentStore } from '../../../core/ports/document-store.port';
import { redact } from '../../../core/secrets/redacted';
import type { WebhookChannel } from '../../../core/webhook/types';

export const T0_MS = 1_760_000_000_000;

export interface SettableClock {
  nowMs(): number;
  set(ms: number): void;
  advance(ms: number): void;
}

export function settableClock(startMs = T0_MS): SettableClock {
  let t = startMs;
  return { nowMs: () => t, set: (ms) => { t = ms; }, advance: (ms) => { t += ms; } };
}

/** Secrets that decode for their channel (the Standard Webhooks and Teams ones are 32 random-looking bytes). */
export const SECRETS: Readonly<Record<WebhookChannel, string>> = {
  standard: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  github: "It's a Secret to Everybody",
  slack: '8f742231b10e8888abcd99yyyzzz85a5',
  teams: 'aICAjTNnrOddbThbC7YtzuktsaKF01DbGQzRAfyMgMs=',
};

export interface EdgeFixture {
  pipeline: EdgePipeline;
  store: DocumentStore;
  secrets: MemorySecretSource;
  registry: HookRegistry;
  replayGuard: ReplayGuard;
  limiter: EdgeLimiter;
  queue: MemoryEdgeQueue;
  receipts: MemoryReceiptSink;
  clock: SettableClock;
  /** Every log line, as written. */
  logs: string[];
}

export interface EdgeFixtureOptions extends EdgePipelineOptions {
  limiter?: EdgeLimiter;
  limiterOptions?: LocalEdgeLimiterOptions;
  /** Share a store (and secrets) with another fixture: another "instance" of the Function app. */
  store?: DocumentStore;
  secrets?: MemorySecretSource;
  clock?: SettableClock;
  /** Registry cache settings (the clock is the fixture's). */
  registryOptions?: Omit<DocumentHookRegistryOptions, 'clock'>;
}

export function createEdgeFixture(options: EdgeFixtureOptions = {}): EdgeFixture {
  const clock = options.clock ?? settableClock();
  const store = options.store ?? new MemoryDocumentStore({ clock });
  const secrets = options.secrets ?? createMemorySecretSource();
  const registry = createDocumentHookRegistry(store, secrets, { ...options.registryOptions, clock });
  const replayGuard = createDocumentReplayGuard(store);
  const limiter = options.limiter ?? createLocalEdgeLimiter({ clock, ...options.limiterOptions });
  const queue = createMemoryEdgeQueue();
  const receipts = createMemoryReceiptSink();
  const { lines: logs, logger } = captureLogs({ component: 'edge-test', disabled: options._disable });
  const { limiter: _l, limiterOptions: _lo, store: _s, secrets: _se, clock: _c, registryOptions: _ro, ...pipelineOptions } = options;
  const pipeline = createEdgePipeline({ registry, replayGuard, limiter, queue, receipts, clock, logger }, pipelineOptions);
  return { pipeline, store, secrets, registry, replayGuard, limiter, queue, receipts, clock, logs };
}

export async function registerHook(
  fixture: Pick<EdgeFixture, 'registry'>,
  channel: WebhookChannel,
  overrides: Partial<Omit<CreateHookInput, 'secret'>> & { secret?: string } = {},
): Promise<HookRegistration> {
  const { secret, ...rest } = overrides;
  return fixture.registry.create({
    tenantId: 'tenant-a',
    sandboxId: 'sandbox-a',
    channel,
    allowedEventTypes: DEFAULT_EVENTS[channel],
    ...rest,
    secret: redact(secret ?? SECRETS[channel]),
  });
}

const DEFAULT_EVENTS: Record<WebhookChannel, string[]> = {
  standard: ['contact.created'],
  github: ['push', 'issues'],
  slack: ['app_mention'],
  teams: ['message'],
};

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

export interface RequestSpec {
  channel: string;
  hookId: string;
  body: Uint8Array | string;
  headers?: Record<string, string>;
  /** Path suffix after the hook id, e.g. `?token=x`. */
  query?: string;
  /** Split the body into chunks of this size (a streamed, chunked body). */
  chunkBytes?: number;
  /** Send no Content-Length (chunked transfer). */
  omitContentLength?: boolean;
  method?: string;
}

export function edgeRequest(spec: RequestSpec): EdgeRequest & { pulledBytes(): number } {
  const bytes = typeof spec.body === 'string' ? utf8(spec.body) : spec.body;
  const headers = new Headers({ 'content-type': 'application/json', ...spec.headers });
  if (!spec.omitContentLength && !headers.has('content-length')) headers.set('content-length', String(bytes.byteLength));
  let pulled = 0;
  const chunkBytes = spec.chunkBytes ?? Math.max(1, bytes.byteLength);
  const body: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < bytes.byteLength; i += chunkBytes) {
        const chunk = bytes.subarray(i, i + chunkBytes);
        pulled += chunk.byteLength;
        yield chunk;
      }
    },
  };
  return {
    method: spec.method ?? 'POST',
    url: `http://127.0.0.1:7071/api/hooks/${spec.channel}/${spec.hookId}${spec.query ?? ''}`,
    channel: spec.channel,
    hookId: spec.hookId,
    header: (name) => headers.get(name) ?? undefined,
    headerEntries: () => headers.entries(),
    body: bytes.byteLength === 0 && spec.chunkBytes === undefined ? null : body,
    pulledBytes: () => pulled,
  };
}

// ---- signers -------------------------------------------------------------------------------------------------

/** Standard Webhooks headers signed by the `standardwebhooks` library. */
export function signStandard(secret: string, id: string, timestampSec: number, payload: string): Record<string, string> {
  const signature = new Webhook(secret).sign(id, new Date(timestampSec * 1000), payload);
  return { 'webhook-id': id, 'webhook-timestamp': String(timestampSec), 'webhook-signature': signature };
}

// @octokit/webhooks-methods is ESM-only; this project compiles to CommonJS, so it is loaded dynamically.
let octokitSign: ((secret: string, payload: string) => Promise<string>) | undefined;

/** GitHub headers signed by `@octokit/webhooks-methods`. */
export async function signGithub(secret: string, delivery: string, event: string, payload: string): Promise<Record<string, string>> {
  octokitSign ??= (await import('@octokit/webhooks-methods')).sign;
  return { 'x-hub-signature-256': await octokitSign(secret, payload), 'x-github-delivery': delivery, 'x-github-event': event };
}

/** Slack v0 (docs.slack.dev "Verifying requests from Slack"); the published vector checks this function in edge tests. */
export function signSlack(secret: string, timestampSec: number, body: Uint8Array | string): Record<string, string> {
  const mac = createHmac('sha256', secret).update(`v0:${timestampSec}:`).update(typeof body === 'string' ? utf8(body) : body).digest('hex');
  return { 'x-slack-signature': `v0=${mac}`, 'x-slack-request-timestamp': String(timestampSec) };
}

/** Teams outgoing webhook: HMAC-SHA256 keyed with the base64-decoded security token. */
export function signTeams(securityToken: string, body: Uint8Array | string): Record<string, string> {
  const mac = createHmac('sha256', Buffer.from(securityToken, 'base64')).update(typeof body === 'string' ? utf8(body) : body).digest('base64');
  return { authorization: `HMAC ${mac}` };
}

export const nowSec = (clock: { nowMs(): number }): number => Math.floor(clock.nowMs() / 1000);

export function parsedLogs(logs: readonly string[]): Array<Record<string, unknown>> {
  return logs.map((l) => JSON.parse(l) as Record<string, unknown>);
}

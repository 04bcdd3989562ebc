// The caching TokenSource over the real WorkloadIdentityCredential: one request per refresh window, refresh before
// expiry, keep serving a still-valid token when a refresh fails, and IDENTITY_UNAVAILABLE once it has expired.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessToken as SdkAccessToken, TokenCredential } from '@azure/identity';
import type { LogFields } from '../../../core/ports/logger.port';
import { createAzureCredential } from '../../../adapters/identity/create-azure-credential';
import { DEFAULT_REFRESH_MARGIN_MS, createCredentialTokenSource } from '../../../adapters/identity/credential-token-source';
import { startIdentityServer, type IdentityServer } from '../../../infra/local/identity/identity-server';
import { workloadIdentityEnv } from './local-identity-fixture';
import { settledCode } from '../../support/settled-code';

const SCOPE = 'https://vault.azure.net/.default';
// Below MSAL's own 300 s renewal window, so every refresh we ask for really reaches the server.
const LIFETIME_SEC = 60;
let server: IdentityServer;

beforeAll(async () => {
  server = await startIdentityServer({ tokenLifetimeSec: LIFETIME_SEC });
});
afterAll(async () => {
  await server?.stop();
});

function shiftedClock() {
  const clock = { offsetMs: 0, nowMs: () => Date.now() + clock.offsetMs };
  return clock;
}

function credential(s: IdentityServer = server) {
  return createAzureCredential(workloadIdentityEnv(s), { caCertPem: s.caCertPem, maxRetries: 0 }).credential;
}

describe('credential token source', () => {
  it('defaults to a five minute refresh margin', () => {
    expect(DEFAULT_REFRESH_MARGIN_MS).toBe(300_000);
  });

  it('caches per scope and asks the provider once for concurrent callers', async () => {
    const source = createCredentialTokenSource(credential(), { refreshMarginMs: 10_000 });
    const before = server.stats().workloadTokensIssued;
    const all = await Promise.all(Array.from({ length: 8 }, () => source.getToken(SCOPE)));
    expect(new Set(all.map((t) => t.token.reveal())).size).toBe(1);
    expect((await source.getToken(SCOPE)).token.reveal()).toBe(all[0]!.token.reveal());
    expect(server.stats().workloadTokensIssued).toBe(before + 1);
    await source.getToken('https://storage.azure.com/.default');
    expect(server.stats().workloadTokensIssued).toBe(before + 2);
  });

  it('refreshes inside the margin, while the old token is still valid', async () => {
    const clock = shiftedClock();
    const source = createCredentialTokenSource(credential(), { refreshMarginMs: 20_000, clock });
    const first = await source.getToken(SCOPE);
    expect(first.expiresOnMs - Date.now()).toBeLessThanOrEqual(LIFETIME_SEC * 1000 + 1000); // MSAL rounds to the second
    const before = server.stats().workloadTokensIssued;
    clock.offsetMs = LIFETIME_SEC * 1000 - 30_000; // 30 s left: outside the margin, still cached
    expect((await source.getToken(SCOPE)).token.reveal()).toBe(first.token.reveal());
    expect(server.stats().workloadTokensIssued).toBe(before);
    clock.offsetMs = LIFETIME_SEC * 1000 - 15_000; // 15 s left: inside the margin
    expect(clock.nowMs()).toBeLessThan(first.expiresOnMs);
    const second = await source.getToken(SCOPE);
    expect(second.token.reveal()).not.toBe(first.token.reveal());
    expect(server.stats().workloadTokensIssued).toBe(before + 1);
    expect(second.expiresOnMs).toBeGreaterThanOrEqual(first.expiresOnMs);
  });

  it('keeps serving a valid token when the provider is down, then fails with IDENTITY_UNAVAILABLE', async () => {
    const own = await startIdentityServer({ tokenLifetimeSec: LIFETIME_SEC });
    const warnings: LogFields[] = [];
    const clock = shiftedClock();
    const source = createCredentialTokenSource(credential(own), {
      refreshMarginMs: 20_000, clock,
      logger: { info() {}, warn: (_e, f) => warnings.push(f ?? {}), error() {} },
    });
    const first = await source.getToken(SCOPE);
    await own.stop();
    clock.offsetMs = LIFETIME_SEC * 1000 - 10_000;
    expect((await source.getToken(SCOPE)).token.reveal()).toBe(first.token.reveal());
    expect(warnings.map((w) => w.reason)).toContain('serving cached token');
    clock.offsetMs = LIFETIME_SEC * 1000 + 1_000;
    expect(await settledCode(source.getToken(SCOPE))).toBe('IDENTITY_UNAVAILABLE');
  });

  it('honours an already-aborted signal', async () => {
    const source = createCredentialTokenSource(credential());
    expect(await settledCode(source.getToken(SCOPE, { abortSignal: AbortSignal.abort() }))).toBe('IDENTITY_UNAVAILABLE');
  });

  it('stops waiting when the caller aborts a slow request', async () => {
    const slow: TokenCredential = { getToken: () => new Promise<SdkAccessToken | null>(() => {}) };
    const source = createCredentialTokenSource(slow);
    const started = Date.now();
    expect(await settledCode(source.getToken(SCOPE, { abortSignal: AbortSignal.timeout(100) }))).toBe('IDENTITY_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('honours the SDK refreshAfterTimestamp when it comes before the margin', async () => {
    let calls = 0;
    const now = Date.now();
    const cred: TokenCredential = {
      getToken: async () => ({ token: `t${++calls}`, expiresOnTimestamp: now + 3600_000, refreshAfterTimestamp: now + 1000 }),
    };
    const clock = shiftedClock();
    const source = createCredentialTokenSource(cred, { clock });
    expect((await source.getToken(SCOPE)).token.reveal()).toBe('t1');
    expect((await source.getToken(SCOPE)).token.reveal()).toBe('t1');
    clock.offsetMs = 2000;
    expect((await source.getToken(SCOPE)).token.reveal()).toBe('t2');
  });

  it('treats a null token as IDENTITY_UNAVAILABLE', async () => {
    const source = createCredentialTokenSource({ getToken: async () => null });
    expect(await settledCode(source.getToken(SCOPE))).toBe('IDENTITY_UNAVAILABLE');
  });
});

// T4-S "Peer claims someone else's identity" (registry half)
// Defends: Ed25519-Timestamp verification (±300 s, replay store), signed-prekey check, per-sandbox router tokens and the sandbox → DID binding.
// Each attack runs with its mitigation on (refused) and off through `_disable` (it succeeds), except the token checks,
// whose "off" is a token the issuer really signed for the attacker's own sandbox: that token works only for its own
// sandbox's agent.
import { describe, expect, it } from 'vitest';
import { createServiceAccountIssuer } from '../../infra/local/identity/service-account-issuer';
import { agt, ed25519TimestampHeader, newAgent, prekeyBody, registerBody, type TestAgent } from '../mesh/agt-sdk';
import { createMeshFixture, ISSUER, messageFrame, type MeshFixture } from '../mesh/mesh-fixture';
import type { MeshMitigation } from '../../core/mesh/mesh-switches';

const prekeysPath = (a: TestAgent): string => `mesh/v1/agents/${encodeURIComponent(a.did)}/prekeys`;

async function withAgents(disable: MeshMitigation[] = []): Promise<{ f: MeshFixture; alice: TestAgent; bob: TestAgent }> {
  const f = createMeshFixture({ _disable: disable });
  const alice = newAgent('alice');
  const bob = newAgent('bob');
  expect((await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-a', body: registerBody(alice) })).status).toBe(201);
  expect((await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-b', body: registerBody(bob) })).status).toBe(201);
  const put = await f.call('PUT', prekeysPath(alice), { sandbox: 'sb-a', body: prekeyBody(alice, 2), authorization: ed25519TimestampHeader(alice, f.clock.nowMs()) });
  expect(put.status).toBe(200);
  return { f, alice, bob };
}

describe('T4-S Ed25519-Timestamp on prekey uploads', () => {
  it('a header signed by another key (forged) is 401 ON and replaces the bundle OFF', async () => {
    const mallory = newAgent('mallory');
    for (const [disable, status] of [[[], 401], [['ed25519-auth'], 200]] as const) {
      const { f, alice } = await withAgents([...disable]);
      const forged = ed25519TimestampHeader(alice, f.clock.nowMs() + 5, mallory.edPrivate);
      // Same sandbox (a compromised router process), so only the header stands between Mallory and Alice's bundle.
      const r = await f.call('PUT', prekeysPath(alice), { sandbox: 'sb-a', body: prekeyBody(alice, 1), authorization: forged });
      expect(r.status, `disable=${disable.join(',')}`).toBe(status);
      if (status === 401) expect(r.body).toEqual({ code: 'AUTH_REQUIRED', message: 'authentication required' });
    }
  });

  it('a header older than 300 s is 401 ON and accepted OFF; 299 s is accepted', async () => {
    for (const [disable, status] of [[[], 401], [['ed25519-auth'], 200]] as const) {
      const { f, alice } = await withAgents([...disable]);
      const old = ed25519TimestampHeader(alice, f.clock.nowMs() - 301_000);
      expect((await f.call('PUT', prekeysPath(alice), { sandbox: 'sb-a', body: prekeyBody(alice, 1), authorization: old })).status).toBe(status);
    }
    const { f, alice } = await withAgents();
    const recent = ed25519TimestampHeader(alice, f.clock.nowMs() - 299_000);
    expect((await f.call('PUT', prekeysPath(alice), { sandbox: 'sb-a', body: prekeyBody(alice, 1), authorization: recent })).status).toBe(200);
  });

  it('a replayed header is 401 ON and accepted again OFF', async () => {
    for (const [disable, second] of [[[], 401], [['auth-replay'], 200]] as const) {
      const { f, alice } = await withAgents([...disable]);
      const header = ed25519TimestampHeader(alice, f.clock.nowMs() + 10);
      expect((await f.call('PUT', prekeysPath(alice), { sandbox: 'sb-a', body: prekeyBody(alice, 1), authorization: header })).status).toBe(200);
      expect((await f.call('PUT', prekeysPath(alice), { sandbox: 'sb-a', body: prekeyBody(alice, 1), authorization: header })).status).toBe(second);
    }
  });

  it('a missing header is 401; the bound Ed25519 key cannot be swapped for another', async () => {
    const { f, alice } = await withAgents();
    expect((await f.call('PUT', prekeysPath(alice), { sandbox: 'sb-a', body: prekeyBody(alice, 1) })).status).toBe(401);
    const other = newAgent('alice');
    const r = await f.call('PUT', prekeysPath(alice), { sandbox: 'sb-a', body: prekeyBody(other, 1), authorization: ed25519TimestampHeader(alice, f.clock.nowMs() + 20) });
    expect(r.body.code).toBe('MESH_PREKEY_INVALID');
  });
});

describe('T4-S signed prekey', () => {
  it('a signed prekey not signed by the identity key is refused ON and handed to peers OFF', async () => {
    for (const [disable, status] of [[[], 400], [['prekey-signature'], 200]] as const) {
      const f = createMeshFixture({ _disable: [...disable] });
      const alice = newAgent('alice');
      await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-a', body: registerBody(alice) });
      const body = prekeyBody(alice, 1) as { signed_pre_key: { signature: string; public_key: string } };
      // Mallory's substituted SPK (she holds its private half) with Alice's signature over another key.
      body.signed_pre_key.public_key = Buffer.from(agt.ed25519.getPublicKey(agt.ed25519.utils.randomSecretKey())).toString('base64url');
      const r = await f.call('PUT', prekeysPath(alice), { sandbox: 'sb-a', body, authorization: ed25519TimestampHeader(alice, f.clock.nowMs()) });
      expect(r.status).toBe(status);
      if (status === 400) expect(r.body.code).toBe('MESH_PREKEY_INVALID');
    }
  });

  it('wrong key lengths are refused', async () => {
    const { f, alice } = await withAgents();
    const body = prekeyBody(alice, 1) as { one_time_pre_keys: { public_key: string }[] };
    body.one_time_pre_keys[0]!.public_key = Buffer.alloc(31).toString('base64url');
    const r = await f.call('PUT', prekeysPath(alice), { sandbox: 'sb-a', body, authorization: ed25519TimestampHeader(alice, f.clock.nowMs() + 30) });
    expect(r.body.code).toBe('MESH_PREKEY_INVALID');
  });
});

describe('T4-S per-sandbox router tokens', () => {
  it("sandbox B's genuine token used for sandbox A's agent: 403 ON for prekeys, relay post, fetch and ack; OFF it acts for A", async () => {
    for (const [disable, expectRefused] of [[[], true], [['sandbox-binding'], false]] as const) {
      const { f, alice, bob } = await withAgents([...disable]);
      await f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-b', body: messageFrame(bob.did, alice.did, 'to-alice') });
      const asB = { sandbox: 'sb-b' };
      const results = [
        await f.call('PUT', prekeysPath(alice), { ...asB, body: prekeyBody(alice, 1), authorization: ed25519TimestampHeader(alice, f.clock.nowMs() + 40) }),
        await f.call('POST', 'mesh/relay/frames', { ...asB, body: messageFrame(alice.did, bob.did, 'spoofed') }),
        await f.call('POST', 'mesh/relay/pending', { ...asB, body: { did: alice.did } }),
        await f.call('POST', 'mesh/relay/ack', { ...asB, body: { did: alice.did, ids: ['to-alice'] } }),
      ];
      for (const r of results) {
        if (expectRefused) expect(r).toMatchObject({ status: 403, body: { code: 'AUTH_FORBIDDEN' } });
        else expect(r.status).toBeLessThan(300);
      }
      // B's own agent still works with B's token.
      expect((await f.call('POST', 'mesh/relay/pending', { sandbox: 'sb-b', body: { did: bob.did } })).status).toBe(200);
      // A sandbox holds one agent: B cannot register a second DID (ON) — OFF it can.
      const second = await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-b', body: registerBody(newAgent('bob2')) });
      expect(second.status).toBe(expectRefused ? 403 : 201);
    }
  });

  it('expired, too-long-lived, wrong-audience, foreign-issuer, tampered and non-router tokens are 401', async () => {
    const f = createMeshFixture();
    const nowSec = Math.floor(f.clock.nowMs() / 1000);
    const foreign = createServiceAccountIssuer(ISSUER, 'system:serviceaccount:sb-a:kars-router');
    const genuine = f.tokenFor('sb-a');
    const [h, p, s] = genuine.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'system:serviceaccount:sb-b:kars-router', 'kubernetes.io': { namespace: 'sb-b' } })).toString('base64url')}.${s}`;
    const bad: Record<string, string> = {
      expired: f.tokenFor('sb-a', { issuedAtSec: nowSec - 7200, lifetimeSec: 3600 }),
      // Valid now, but minted to live 48 h (Kubernetes' ceiling): not the router's 1 h projected token.
      'lifetime beyond 1 h': f.tokenFor('sb-a', { lifetimeSec: 48 * 3600 }),
      'wrong audience': f.tokenFor('sb-a', { audience: 'api://AzureADTokenExchange' }),
      // Same issuer URL, another signing key (a cluster that is not ours claiming our issuer).
      'foreign issuer key': foreign.mint({ subject: 'system:serviceaccount:sb-a:kars-router', audience: 'kars-mesh' }),
      'foreign issuer url': createServiceAccountIssuer('https://evil.test/oidc', '').mint({ subject: 'system:serviceaccount:sb-a:kars-router', audience: 'kars-mesh' }),
      tampered,
      'not the router service account': f.tokenFor('sb-a', { subject: 'system:serviceaccount:sb-a:default' }),
      'alg none': `${Buffer.from(JSON.stringify({ alg: 'none', kid: 'x' })).toString('base64url')}.${p}.`,
    };
    for (const [name, token] of Object.entries(bad)) {
      const r = await f.call('POST', 'mesh/v1/agents', { token, body: registerBody(newAgent(name.replace(/ /g, '-'))) });
      expect(r, name).toMatchObject({ status: 401, body: { code: 'AUTH_REQUIRED' } });
    }
    expect((await f.call('POST', 'mesh/v1/agents', { token: genuine, body: registerBody(newAgent('ok')) })).status).toBe(201);
  });
});

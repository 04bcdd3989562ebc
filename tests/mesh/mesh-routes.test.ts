// The mesh routes end to end in one process: registry (register, prekeys, exactly-once OPK, discover, delete) and
// relay store (post, notify the recipient's sandbox, fetch pending, ack, dedup, 72 h TTL on read).
import { describe, expect, it } from 'vitest';
import { ed25519TimestampHeader, newAgent, prekeyBody, registerBody } from './agt-sdk';
import { createMeshFixture, messageFrame } from './mesh-fixture';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { createLazyMeshRoutes } from '../../functions/mesh/mesh-routes';
import { loadMeshSettings } from '../../functions/mesh/mesh-settings';

async function registered(f = createMeshFixture()) {
  const alice = newAgent('alice');
  const bob = newAgent('bob');
  expect((await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-a', body: registerBody(alice, ['alice', 'math']) })).status).toBe(201);
  expect((await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-b', body: registerBody(bob, ['bob', 'math']) })).status).toBe(201);
  for (const [agent, sandbox] of [[alice, 'sb-a'], [bob, 'sb-b']] as const) {
    const put = await f.call('PUT', `mesh/v1/agents/${encodeURIComponent(agent.did)}/prekeys`, {
      sandbox, body: prekeyBody(agent, 3), authorization: ed25519TimestampHeader(agent, f.clock.nowMs()),
    });
    expect(put, JSON.stringify(put.body)).toMatchObject({ status: 200, body: { otk_count: 3 } });
  }
  return { f, alice, bob };
}

describe('mesh registry routes', () => {
  it('registers, answers 409 to a repeat from the same sandbox, hands out each OPK once, then none', async () => {
    const { f, alice, bob } = await registered();
    expect((await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-a', body: registerBody(alice) })).status).toBe(409);
    const got = await f.call('GET', `mesh/v1/agents/${encodeURIComponent(alice.did)}`, { sandbox: 'sb-b' });
    expect(got).toMatchObject({ status: 200, body: { did: alice.did, capabilities: ['alice', 'math'] } });
    const ids: (number | null)[] = [];
    for (let i = 0; i < 4; i += 1) {
      const r = await f.call('GET', `mesh/v1/agents/${encodeURIComponent(bob.did)}/prekeys`, { sandbox: 'sb-a' });
      expect(r.status).toBe(200);
      expect(r.body.identity_key_ed).toBe(Buffer.from(bob.keys.identityKeyEd).toString('base64url'));
      ids.push(r.body.one_time_pre_key?.key_id ?? null);
    }
    expect(ids.slice(0, 3).sort()).toEqual([...new Set(ids.slice(0, 3))].sort());
    expect(ids[3]).toBeNull();
    const found = await f.call('GET', 'mesh/v1/discover?capability=math&limit=10', { sandbox: 'sb-a' });
    expect(found.body.results.map((r: { did: string }) => r.did).sort()).toEqual([alice.did, bob.did].sort());
  });

  it('deletes only with the bound sandbox and a fresh header, then the DID and the sandbox are free again', async () => {
    const { f, alice } = await registered();
    const path = `mesh/v1/agents/${encodeURIComponent(alice.did)}`;
    expect((await f.call('DELETE', path, { sandbox: 'sb-a' })).status).toBe(401);
    expect((await f.call('DELETE', path, { sandbox: 'sb-b', authorization: ed25519TimestampHeader(alice, f.clock.nowMs()) })).status).toBe(403);
    expect((await f.call('DELETE', path, { sandbox: 'sb-a', authorization: ed25519TimestampHeader(alice, f.clock.nowMs() + 1) })).status).toBe(204);
    expect((await f.call('GET', path, { sandbox: 'sb-a' })).status).toBe(404);
    expect((await f.call('GET', 'mesh/v1/discover?capability=alice', { sandbox: 'sb-a' })).body.results).toEqual([]);
    expect((await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-a', body: registerBody(newAgent('alice2')) })).status).toBe(201);
  });

  it('refuses requests without a router token, and bodies that fail the schema', async () => {
    const f = createMeshFixture();
    expect((await f.call('POST', 'mesh/v1/agents', { token: null, body: registerBody(newAgent('x')) })).status).toBe(401);
    expect((await f.call('POST', 'mesh/v1/agents', { body: { did: 'not-a-did', public_key: 'AA' } })).body.code).toBe('INPUT_INVALID');
  });
});

describe('mesh relay routes', () => {
  it('stores a frame, notifies the recipient sandbox only, delivers on fetch, deletes on ack, dedups by id', async () => {
    const { f, alice, bob } = await registered();
    const frame = messageFrame(alice.did, bob.did, 'm-1');
    expect((await f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-a', body: frame })).status).toBe(202);
    expect(f.notes).toEqual([{ sandboxId: 'sb-b', note: { recipientDid: bob.did, messageId: 'm-1' } }]);
    expect((await f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-a', body: frame })).body.status).toBe('duplicate');
    const pending = await f.call('POST', 'mesh/relay/pending', { sandbox: 'sb-b', body: { did: bob.did } });
    expect(pending.body.frames).toEqual([frame]);
    expect((await f.call('POST', 'mesh/relay/ack', { sandbox: 'sb-b', body: { did: bob.did, ids: ['m-1'] } })).body.acked).toBe(1);
    expect((await f.call('POST', 'mesh/relay/pending', { sandbox: 'sb-b', body: { did: bob.did } })).body.frames).toEqual([]);
    // A late re-post of an acknowledged id is still a duplicate, not a second delivery.
    expect((await f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-a', body: frame })).body.status).toBe('duplicate');
    expect((await f.call('POST', 'mesh/relay/pending', { sandbox: 'sb-b', body: { did: bob.did } })).body.frames).toEqual([]);
  });

  it('drops frames older than 72 h on read', async () => {
    const { f, alice, bob } = await registered();
    expect((await f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-a', body: messageFrame(alice.did, bob.did, 'old') })).status).toBe(202);
    f.clock.advance(72 * 3600 * 1000 - 1000);
    expect((await f.call('POST', 'mesh/relay/pending', { sandbox: 'sb-b', body: { did: bob.did } })).body.frames).toHaveLength(1);
    f.clock.advance(2000);
    expect((await f.call('POST', 'mesh/relay/pending', { sandbox: 'sb-b', body: { did: bob.did } })).body.frames).toHaveLength(0);
  });

  it('refuses frames to unregistered recipients (404)', async () => {
    const { f, alice } = await registered();
    expect((await f.call('POST', 'mesh/relay/frames', { sandbox: 'sb-a', body: messageFrame(alice.did, 'did:mesh:nobody', 'x') })).status).toBe(404);
  });
});

describe('lazy mesh routes', () => {
  it('answer CONFIG_INVALID (500, no detail) while the OIDC settings are missing', async () => {
    const routes = createLazyMeshRoutes(async () => { loadMeshSettings({}); throw new Error('unreachable'); });
    const register = routes.find((r) => r.name === 'meshRegisterAgent')!;
    const res = await register.handler(new HttpRequest({ method: 'POST', url: 'http://local/api/mesh/v1/agents' }), new InvocationContext());
    expect(res).toMatchObject({ status: 500, jsonBody: { code: 'CONFIG_INVALID', message: 'mesh routes not configured' } });
  });
});

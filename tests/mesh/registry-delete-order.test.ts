// Agent deletion fails part-way (T4-S, the sandbox → DID binding): whichever write of the delete fails, the registry is
// left where the same DELETE retried finishes it; a sandbox binding never outlives its agent document (which would
// keep the sandbox from registering again while the DID is free for another sandbox), and readers never see a
// half-deleted agent. Every write position is failed in turn.
import { describe, expect, it } from 'vitest';
import { KarsError } from '../../core/errors';
import { AGENT_DOC_ID, sandboxPartition, type AgentDoc, type SandboxBindingDoc } from '../../core/mesh/registry/agent-record';
import type { DocumentStore } from '../../core/ports/document-store.port';
import type { MemoryDocumentStore } from '../../adapters/memory/memory-document-store';
import { newAgent, registerBody } from './agt-sdk';
import { createMeshFixture } from './mesh-fixture';

/** Fails the `failAt`-th write (create, replace, upsert, delete) counted from arming; reads pass. */
function failingWrites(inner: MemoryDocumentStore) {
  const state = { armed: false, writes: 0, failAt: 0 };
  const write = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    if (state.armed && ++state.writes === state.failAt) throw new KarsError('STORE_UNAVAILABLE', 'injected write failure');
    return fn(...a);
  };
  const store: DocumentStore = {
    read: (...a) => inner.read(...a),
    query: (...a) => inner.query(...a),
    create: write((...a: Parameters<DocumentStore['create']>) => inner.create(...a)),
    replace: write((...a: Parameters<DocumentStore['replace']>) => inner.replace(...a)),
    upsert: write((...a: Parameters<DocumentStore['upsert']>) => inner.upsert(...a)),
    delete: write((...a: Parameters<DocumentStore['delete']>) => inner.delete(...a)),
  };
  return { store, state };
}

describe('agent delete failing part-way', () => {
  it('at every write position: no orphan binding, no half-visible agent, the retried DELETE finishes, both sandboxes can go on', async () => {
    let positions = 0;
    for (let failAt = 1; ; failAt += 1) {
      let injected!: ReturnType<typeof failingWrites>;
      const f = createMeshFixture({ wrapAgents: (inner) => (injected = failingWrites(inner)).store });
      const alice = newAgent('alice');
      const path = `mesh/v1/agents/${encodeURIComponent(alice.did)}`;
      expect((await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-a', body: registerBody(alice, ['c1', 'c2']) })).status).toBe(201);

      injected.state.armed = true;
      injected.state.failAt = failAt;
      const first = await f.call('DELETE', path, { sandbox: 'sb-a' });
      injected.state.armed = false;
      if (first.status === 204) break; // past the last write: every position has been failed
      positions += 1;
      expect(first.status, `write ${failAt}`).toBe(503);

      // A binding that names the DID has its agent document, bound to the same sandbox.
      const binding = await f.agents.read<SandboxBindingDoc>(sandboxPartition('sb-a'), 'binding');
      const doc = await f.agents.read<AgentDoc>(alice.did, AGENT_DOC_ID);
      if (binding?.doc.did === alice.did) expect(doc?.doc.sandboxId, `write ${failAt}: binding without its agent`).toBe('sb-a');
      // Another sandbox cannot take the DID while sb-a's binding still names it.
      const taken = await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-t', body: registerBody(alice) });
      expect(taken.status, `write ${failAt}: DID taken while half-deleted`).toBe(403);
      // Readers see the agent whole (failure before anything changed) or not at all.
      const seen = await f.call('GET', path, { sandbox: 'sb-b' });
      if (failAt > 1) expect(seen.status, `write ${failAt}`).toBe(404);

      const retried = await f.call('DELETE', path, { sandbox: 'sb-a' });
      expect(retried.status, `write ${failAt}: retried DELETE`).toBe(204);
      expect(await f.agents.read(sandboxPartition('sb-a'), 'binding')).toBeUndefined();
      expect((await f.call('GET', 'mesh/v1/discover?capability=c1', { sandbox: 'sb-b' })).body.results).toEqual([]);
      expect((await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-a', body: registerBody(newAgent('alice2')) })).status, `write ${failAt}`).toBe(201);
      expect((await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-t', body: registerBody(alice) })).status, `write ${failAt}`).toBe(201);
    }
    // Tombstone, two capability entries, the binding, the document.
    expect(positions).toBe(5);
  });

  it('a binding left behind by an older delete (agent gone) no longer blocks its sandbox from registering', async () => {
    const f = createMeshFixture();
    await f.agents.create(sandboxPartition('sb-a'), { id: 'binding', sandboxId: 'sb-a', did: 'did:mesh:gone' } satisfies SandboxBindingDoc);
    expect((await f.call('POST', 'mesh/v1/agents', { sandbox: 'sb-a', body: registerBody(newAgent('fresh')) })).status).toBe(201);
    expect((await f.agents.read<SandboxBindingDoc>(sandboxPartition('sb-a'), 'binding'))?.doc.did).toBe('did:mesh:fresh');
  });
});

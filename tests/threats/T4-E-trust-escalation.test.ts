// T4-E "Compromised peer escalates trust" — mitigation: ±200 clamp per signal, bootstrap cap, capped transitive paths, signed updates only.
// Defends: a compromised peer (or whoever holds its endorsing key) lifting its own or a sybil's trust: huge deltas, long endorsement chains, sybil endorsements, and unsigned, mis-signed, replayed, stale or foreign-issuer updates. Each is refused (with its code, audited, nothing applied) or clamped with the mitigation on, and succeeds with it off (`_disable`, unreachable from configuration).
import { describe, expect, it } from 'vitest';
import { TRUST_MITIGATIONS } from '../../core/trust/trust-policy';
import { createTrustFixture, newIssuer, signed, TENANT } from '../core/trust/trust-fixture';

const OBS = 'sandbox-victim';
const ATTACKER = 'did:web:attacker';

describe('T4-E trust escalation by a compromised peer', () => {
  it('huge deltas: one explicit update of +1 000 000 moves the score by 200 at most (ON); to 1000 (OFF)', async () => {
    for (const disable of [[], ['delta-clamp']] as const) {
      const f = await createTrustFixture({ _disable: [...disable] });
      expect(await f.admit([f.signal(OBS, ATTACKER, 'explicit', 1_000_000)])).toMatchObject({ ok: true });
      await f.drain();
      const t = await f.trust(OBS, ATTACKER);
      // A new peer starts at the unknown score (300): +200 → 500 with the clamp, the ceiling without.
      expect(t.score).toBe(disable.length === 0 ? 500 : 1000);
    }
  });

  it('a burst of maximal signals climbs 200 per signal, never a jump (ON)', async () => {
    const f = await createTrustFixture();
    const updates = Array.from({ length: 3 }, () => f.signal(OBS, ATTACKER, 'explicit', 10_000));
    expect(await f.admit(updates)).toMatchObject({ ok: true });
    await f.drain();
    expect((await f.trust(OBS, ATTACKER)).score).toBe(900);
  });

  it('long endorsement chains: a 5-hop chain of perfect endorsements is ignored (ON); reaches 1000 (OFF)', async () => {
    for (const disable of [[], ['path-length', 'weakest-edge', 'bootstrap-cap']] as const) {
      const f = await createTrustFixture({ _disable: [...disable] });
      const chain = ['did:web:friend', 'did:web:s1', 'did:web:s2', 'did:web:s3', 'did:web:s4', ATTACKER];
      const updates = [f.signal(OBS, chain[0]!, 'explicit', 200)];
      for (let i = 0; i + 1 < chain.length; i += 1) updates.push(f.edge(chain[i]!, chain[i + 1]!, 1000));
      expect(await f.admit(updates)).toMatchObject({ ok: true });
      await f.drain();
      const t = await f.trust(OBS, ATTACKER);
      if (disable.length === 0) expect(t).toMatchObject({ score: 300, source: 'unknown', paths: [] });
      else expect(t).toMatchObject({ score: 1000, source: 'transitive' });
    }
  });

  it('sybil endorsements: 20 sybils endorsed by one weak peer lift nobody above that peer\'s attenuated trust or 500', async () => {
    for (const disable of [[], ['weakest-edge', 'bootstrap-cap']] as const) {
      const f = await createTrustFixture({ _disable: [...disable] });
      // The observer trusts the compromised peer a little above a stranger (320).
      const updates = [f.signal(OBS, 'did:web:weak', 'explicit', 20)];
      for (let i = 0; i < 20; i += 1) {
        updates.push(f.edge('did:web:weak', `did:web:sybil${i}`, 1000), f.edge(`did:web:sybil${i}`, ATTACKER, 1000));
      }
      expect(await f.admit(updates)).toMatchObject({ ok: true });
      await f.drain();
      const t = await f.trust(OBS, ATTACKER);
      // ON: 320 → 224 → 156 per hop: below the unknown score, so a stranger's 300 (the sybils add nothing).
      if (disable.length === 0) expect(t).toMatchObject({ score: 300, source: 'unknown' });
      else expect(t).toMatchObject({ score: 1000, source: 'transitive' });
    }
  });

  it('an endorsed newcomer starts at no more than 500 however strong its endorsements', async () => {
    for (const disable of [[], ['bootstrap-cap']] as const) {
      const f = await createTrustFixture({ _disable: [...disable] });
      const first = [f.signal(OBS, 'did:web:friend', 'explicit', 200), f.signal(OBS, 'did:web:friend', 'explicit', 200),
        f.signal(OBS, 'did:web:friend', 'explicit', 200)];
      expect(await f.admit(first)).toMatchObject({ ok: true });
      expect(await f.admit([f.edge('did:web:friend', ATTACKER, 1000)])).toMatchObject({ ok: true });
      await f.drain();
      // friend is at 900: 700‰ of 900 = 630, capped at 500 ON.
      expect((await f.trust(OBS, ATTACKER)).score).toBe(disable.length === 0 ? 500 : 630);
      expect(await f.admit([f.signal(OBS, ATTACKER, 'success')])).toMatchObject({ ok: true });
      await f.drain();
      expect((await f.trust(OBS, ATTACKER)).score).toBe(disable.length === 0 ? 510 : 640);
    }
  });

  const refused = [
    {
      name: 'unsigned', code: 'TRUST_SIGNATURE_INVALID', reason: 'signature-missing', off: 'signature',
      make: (f: Awaited<ReturnType<typeof createTrustFixture>>) => ({ payload: f.signal(OBS, ATTACKER, 'explicit', 200).payload }),
    },
    {
      name: 'mis-signed (payload changed after signing)', code: 'TRUST_SIGNATURE_INVALID', reason: 'signature-mismatch', off: 'signature',
      make: (f: Awaited<ReturnType<typeof createTrustFixture>>) => {
        const u = f.signal(OBS, ATTACKER, 'explicit', 10);
        return { ...u, payload: { ...u.payload, update: { ...u.payload.update, delta: 200 } } };
      },
    },
    {
      name: 'foreign issuer (validly signed by a key the tenant never allowed)', code: 'TRUST_ISSUER_UNAUTHORIZED', reason: 'issuer-not-allowed', off: 'issuer',
      make: (f: Awaited<ReturnType<typeof createTrustFixture>>) =>
        signed(newIssuer(), f.clock.nowMs(), { type: 'signal', observer: OBS, subject: ATTACKER, kind: 'explicit', delta: 200 }),
    },
    {
      name: 'stale (issued 301 s ago)', code: 'TRUST_UPDATE_STALE', reason: 'too-old', off: 'freshness',
      make: (f: Awaited<ReturnType<typeof createTrustFixture>>) =>
        signed(f.issuer, f.clock.nowMs() - 301_000, { type: 'signal', observer: OBS, subject: ATTACKER, kind: 'explicit', delta: 200 }),
    },
    {
      name: 'from the future (issued 301 s ahead)', code: 'TRUST_UPDATE_STALE', reason: 'in-future', off: 'freshness',
      make: (f: Awaited<ReturnType<typeof createTrustFixture>>) =>
        signed(f.issuer, f.clock.nowMs() + 301_000, { type: 'signal', observer: OBS, subject: ATTACKER, kind: 'explicit', delta: 200 }),
    },
  ] as const;

  for (const c of refused) {
    it(`${c.name}: refused with ${c.code}, audited with the reason, and the whole batch applies nothing (ON); applied (OFF)`, async () => {
      const on = await createTrustFixture();
      const good = on.signal(OBS, 'did:web:bystander', 'success');
      const r = await on.admit([good, c.make(on)]);
      expect(r).toMatchObject({ ok: false, code: c.code });
      // The caller learns the code and the index, never why a signature failed.
      expect(r.ok ? '' : r.message).not.toMatch(/missing|mismatch|malformed|bad-key|unsigned/i);
      expect(on.queued).toHaveLength(0);
      expect(on.receipts.receipts.at(-1)).toMatchObject({
        kind: 'trust.update', outcome: 'rejected', code: c.code, subject: { tenantId: TENANT, refusedIndex: '1', reason: c.reason },
      });
      // The good update of the refused batch was not applied, and its nonce was not burnt: resent alone, it goes in.
      expect((await on.trust(OBS, 'did:web:bystander')).source).toBe('unknown');
      expect(await on.admit([good])).toMatchObject({ ok: true });

      const off = await createTrustFixture({ _disable: [c.off] });
      expect(await off.admit([c.make(off)])).toMatchObject({ ok: true });
      // The applier re-verifies signature and issuer unless those checks are off too (they are, in this OFF run).
      await off.drain();
      // A stranger (300) + the attacker's clamped +200.
      expect((await off.trust(OBS, ATTACKER)).score).toBe(500);
    });
  }

  it('replayed: a captured update is accepted once, then refused TRUST_UPDATE_REPLAY (ON); applied twice (OFF)', async () => {
    for (const disable of [[], ['replay']] as const) {
      const f = await createTrustFixture({ _disable: [...disable] });
      const capture = f.signal(OBS, ATTACKER, 'explicit', 200);
      expect(await f.admit([capture])).toMatchObject({ ok: true });
      f.clock.advance(60_000);
      const again = await f.admit([capture]);
      if (disable.length === 0) {
        expect(again).toMatchObject({ ok: false, code: 'TRUST_UPDATE_REPLAY' });
        expect(f.receipts.receipts.at(-1)).toMatchObject({ outcome: 'rejected', code: 'TRUST_UPDATE_REPLAY' });
      } else {
        expect(again).toMatchObject({ ok: true });
      }
      // A duplicate inside one batch is a replay too.
      const dup = f.signal(OBS, ATTACKER, 'explicit', 200);
      expect(await f.admit([dup, dup])).toMatchObject(disable.length === 0 ? { ok: false, code: 'TRUST_UPDATE_REPLAY' } : { ok: true });
      await f.drain();
      // ON: 300 + 200 once. OFF: both replays were admitted and queued; the applier's memory of recent nonces (a
      // second, bounded layer for bus redeliveries) applies each nonce once, so 300 + 200 (capture) + 200 (dup).
      expect((await f.trust(OBS, ATTACKER)).score).toBe(disable.length === 0 ? 500 : 700);
      expect(f.receipts.receipts.filter((r) => r.kind === 'trust.update' && r.outcome === 'accepted')).toHaveLength(disable.length === 0 ? 1 : 3);
    }
  });

  it('the switches are data: every mitigation in TRUST_MITIGATIONS is exercised by a case above', () => {
    expect([...TRUST_MITIGATIONS].sort()).toEqual(
      ['bootstrap-cap', 'delta-clamp', 'freshness', 'issuer', 'path-length', 'replay', 'signature', 'weakest-edge'].sort(),
    );
  });
});

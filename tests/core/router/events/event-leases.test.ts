// The inbound-event delivery state machine: leased → acked (settled) or expired (given back), bounded, renewed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEventLeases } from '../../../../core/router/events/event-leases';
import { assertProperty } from '../../../support/property';

describe('createEventLeases', () => {
  it('holds at most maxInFlight leases and frees one when it is settled', () => {
    const l = createEventLeases<string>(2, 1000);
    l.lease('a', 'm1', 30_000, 0);
    l.lease('b', 'm2', 30_000, 0);
    expect(l.free).toBe(0);
    expect(() => l.lease('c', 'm3', 30_000, 0)).toThrow(RangeError);
    expect(l.beginSettle('a', 10)).toMatchObject({ ok: true, value: { message: 'm1', state: 'settling' } });
    expect(l.free).toBe(0); // a settling lease still counts until the broker answered
    l.endSettle('a', 'done');
    expect(l.free).toBe(1);
    expect(l.beginSettle('a', 20)).toMatchObject({ ok: false, code: 'ROUTER_EVENT_LEASE_UNKNOWN' });
  });

  it('refuses a second settlement while one is in flight, and holds the lease again after a transient failure', () => {
    const l = createEventLeases<string>(4, 1000);
    l.lease('a', 'm', 30_000, 0);
    expect(l.beginSettle('a', 1).ok).toBe(true);
    expect(l.beginSettle('a', 2)).toMatchObject({ ok: false, code: 'ROUTER_EVENT_SETTLING' });
    l.endSettle('a', 'retry');
    expect(l.beginSettle('a', 3).ok).toBe(true);
  });

  it('expires leases at their deadline (not those settling) and refuses a late ack', () => {
    const l = createEventLeases<string>(4, 1000);
    l.lease('a', 'm1', 30_000, 0);
    l.lease('b', 'm2', 30_000, 500);
    l.lease('c', 'm3', 30_000, 0);
    expect(l.beginSettle('c', 900).ok).toBe(true);
    expect(l.expireDue(999)).toEqual([]);
    expect(l.expireDue(1000).map((x) => x.id)).toEqual(['a']);
    expect(l.beginSettle('b', 1500)).toMatchObject({ ok: false, code: 'ROUTER_EVENT_LEASE_UNKNOWN' });
    expect(l.inFlight).toBe(2); // b stays until expireDue takes it; c is settling
    expect(l.expireDue(5000).map((x) => x.id)).toEqual(['b']);
    l.endSettle('c', 'retry');
    expect(l.expireDue(5000).map((x) => x.id)).toEqual(['c']);
    expect(l.inFlight).toBe(0);
  });

  it('asks for a lock renewal when a third of the lock is left and the deadline lies beyond it', () => {
    const l = createEventLeases<string>(4, 60_000);
    l.lease('a', 'm', 30_000, 0); // lock span 30 s, deadline 60 s
    expect(l.renewDue(19_999)).toEqual([]);
    expect(l.renewDue(20_000).map((x) => x.id)).toEqual(['a']);
    l.renewed('a', 50_000);
    expect(l.renewDue(20_001)).toEqual([]);
    expect(l.renewDue(40_000).map((x) => x.id)).toEqual(['a']);
    l.renewed('a', 70_000); // now past the deadline: no more renewals
    expect(l.renewDue(59_000)).toEqual([]);
    const short = createEventLeases<string>(4, 10_000);
    short.lease('b', 'm', 30_000, 0); // the deadline comes first: the lock never needs renewing
    expect(short.renewDue(25_000)).toEqual([]);
  });

  it('takeAll hands back every lease not settling; drop forgets one', () => {
    const l = createEventLeases<string>(4, 1000);
    l.lease('a', 'm1', 30_000, 0);
    l.lease('b', 'm2', 30_000, 0);
    l.lease('c', 'm3', 30_000, 0);
    l.beginSettle('b', 1);
    l.drop('c');
    expect(l.takeAll().map((x) => x.id)).toEqual(['a']);
    expect(l.inFlight).toBe(1);
  });

  it('rejects bounds that are not positive integers', () => {
    expect(() => createEventLeases(0, 1000)).toThrow(RangeError);
    expect(() => createEventLeases(1, 0.5)).toThrow(RangeError);
  });

  it('property: every leased message ends exactly once (acked, given back or still held), never acked after its deadline', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('lease' as const) }),
      fc.record({ kind: fc.constantFrom('ack' as const, 'nack' as const, 'fail' as const), pick: fc.nat(20) }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 700 }) }),
      fc.record({ kind: fc.constant('tick' as const) }),
    );
    assertProperty(fc.property(fc.integer({ min: 1, max: 5 }), fc.array(op, { maxLength: 80 }), (max, ops) => {
      const l = createEventLeases<number>(max, 1000);
      let now = 0;
      let next = 0;
      const deadlines = new Map<number, number>();
      const ended = new Map<number, string>();
      const end = (m: number, how: string): void => {
        expect(ended.has(m), `message ${m} ended twice`).toBe(false);
        ended.set(m, how);
      };
      const held = (): number[] => [...deadlines.keys()].filter((m) => !ended.has(m));
      for (const o of ops) {
        if (o.kind === 'lease') {
          if (l.free > 0) {
            const m = next++;
            deadlines.set(m, l.lease(`id-${m}`, m, now + 30_000, now).deadlineMs);
          }
        } else if (o.kind === 'advance') {
          now += o.ms;
        } else if (o.kind === 'tick') {
          for (const x of l.expireDue(now)) {
            expect(now).toBeGreaterThanOrEqual(x.deadlineMs);
            end(x.message, 'expired');
          }
        } else {
          const open = held();
          if (open.length === 0) continue;
          const m = open[o.pick % open.length]!;
          const r = l.beginSettle(`id-${m}`, now);
          if (!r.ok) {
            expect(now).toBeGreaterThanOrEqual(deadlines.get(m)!);
            continue;
          }
          expect(now).toBeLessThan(deadlines.get(m)!);
          if (o.kind === 'fail') l.endSettle(`id-${m}`, 'retry');
          else {
            l.endSettle(`id-${m}`, 'done');
            end(m, o.kind);
          }
        }
        expect(l.inFlight).toBeLessThanOrEqual(max);
        expect(l.inFlight).toBe(held().length);
      }
    }));
  });
});

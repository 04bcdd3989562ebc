// The local broker's stand-in for Azure RBAC (T1-E): a role holds at its scope (one queue, or the namespace) and
// carries only its own rights; the $cbs claim check needs some role covering the entity.
import { describe, expect, it } from 'vitest';
import { AuthorizationTable, checkRoleAssignment, NAMESPACE_SCOPE } from '../../../../infra/local/servicebus/broker-authorization';
import { claimKeyOf } from '../../../../infra/local/servicebus/cbs';

describe('AuthorizationTable', () => {
  const table = new AuthorizationTable([
    { id: 'r1', principalId: 'router-a', scope: 'sbx-a', role: 'Azure Service Bus Data Receiver' },
    { id: 's1', principalId: 'edge', scope: 'sbx-a', role: 'Azure Service Bus Data Sender' },
    { id: 'o1', principalId: 'owner', scope: NAMESPACE_SCOPE, role: 'Azure Service Bus Data Owner' },
  ]);

  it('a queue-scoped receiver may listen there only, and never send', () => {
    expect(table.allows('router-a', 'sbx-a', 'Listen')).toBe(true);
    expect(table.allows('router-a', 'SBX-A', 'Listen')).toBe(true); // entity names are case-insensitive
    expect(table.allows('router-a', 'sbx-b', 'Listen')).toBe(false);
    expect(table.allows('router-a', 'sbx-a', 'Send')).toBe(false);
    expect(table.allows('router-a', 'sbx-a', 'Manage')).toBe(false);
    expect(table.coversAny('router-a', 'sbx-a')).toBe(true);
    expect(table.coversAny('router-a', 'sbx-b')).toBe(false);
    expect(table.coversAny('router-a', '')).toBe(false);
  });

  it('a namespace role holds on every queue; a sender cannot listen', () => {
    expect(table.allows('owner', 'anything', 'Listen')).toBe(true);
    expect(table.coversAny('owner', '')).toBe(true);
    expect(table.allows('edge', 'sbx-a', 'Listen')).toBe(false);
    expect(table.allows('nobody', 'sbx-a', 'Listen')).toBe(false);
  });

  it('deleting a queue\'s scope or an assignment takes the rights away', () => {
    const t = new AuthorizationTable(table.list());
    t.removeScope('sbx-a');
    expect(t.allows('router-a', 'sbx-a', 'Listen')).toBe(false);
    expect(t.remove('o1')).toBe(true);
    expect(t.allows('owner', 'x', 'Listen')).toBe(false);
  });

  it('refuses malformed assignments naming the field', () => {
    expect(() => checkRoleAssignment({ id: 'x', principalId: 'p', scope: 'a/$DeadLetterQueue', role: 'Azure Service Bus Data Receiver' })).toThrow(/scope/);
    expect(() => checkRoleAssignment({ id: 'x', principalId: 'p', scope: 'q', role: 'Owner' })).toThrow(/role/);
    expect(() => checkRoleAssignment({ id: '', principalId: 'p', scope: 'q', role: 'Azure Service Bus Data Sender' })).toThrow(/id/);
  });
});

describe('claimKeyOf', () => {
  it('maps a CBS audience to its queue (dead-letter and $management count as the queue), or the namespace', () => {
    expect(claimKeyOf('sb://127.0.0.1:5672/sbx-A')).toBe('sbx-a');
    expect(claimKeyOf('sb://127.0.0.1:5672/sbx-a/$DeadLetterQueue')).toBe('sbx-a');
    expect(claimKeyOf('sb://127.0.0.1:5672/sbx-a/$management')).toBe('sbx-a');
    expect(claimKeyOf('sb://127.0.0.1:5672/')).toBe('');
    expect(() => claimKeyOf('sb://h/a/b/c')).toThrow();
  });
});

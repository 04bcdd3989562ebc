// The CONNECT decision's pure steps (T3-S): allowlist parsing, target parsing, and the address pick.
import { describe, expect, it } from 'vitest';
import { checkConnectTarget, pickCheckedAddress } from '../../../../core/router/egress/decide-egress';
import { parseEgressAllowlist, parseEgressAllowlistSetting } from '../../../../core/router/egress/egress-allowlist';
import { parseConnectTarget } from '../../../../core/router/egress/connect-target';
import { egressRefusalReceipt } from '../../../../core/router/egress/egress-refusal-receipt';
import { settledCode } from '../../../support/settled-code';

const policy = { allowlist: parseEgressAllowlist(['api.github.com:443', 'Search.Example.com.:8443']) };
const code = (r: { ok: boolean; code?: string }) => (r.ok ? 'ok' : r.code);

describe('parseEgressAllowlist', () => {
  it('normalises names and requires an explicit port', async () => {
    expect([...policy.allowlist.entries]).toEqual(['api.github.com:443', 'search.example.com:8443']);
    for (const bad of ['api.github.com', '*.github.com:443', '10.0.0.1:443', '[::1]:443', 'a..b:443', 'host:0', 'host:65536', 'user@host:443', '-x.com:443']) {
      expect(await settledCode(Promise.resolve().then(() => parseEgressAllowlist([bad]))), bad).toBe('CONFIG_INVALID');
    }
  });
});

describe('parseEgressAllowlistSetting', () => {
  it('reads one configuration value; blank means no allowlist', async () => {
    expect([...parseEgressAllowlistSetting(' api.github.com:443,search.example.com:443\n')!.entries]).toEqual(['api.github.com:443', 'search.example.com:443']);
    expect(parseEgressAllowlistSetting(undefined)).toBeUndefined();
    expect(parseEgressAllowlistSetting(' , ')).toBeUndefined();
    expect(await settledCode(Promise.resolve().then(() => parseEgressAllowlistSetting('api.github.com')))).toBe('CONFIG_INVALID');
  });
});

describe('parseConnectTarget', () => {
  it.each([
    ['api.github.com:443', 'ok'], ['API.GitHub.com.:443', 'ok'], ['api.github.com', 'EGRESS_TARGET_INVALID'],
    ['api.github.com:', 'EGRESS_TARGET_INVALID'], ['api.github.com:99999', 'EGRESS_TARGET_INVALID'], ['u:p@api.github.com:443', 'EGRESS_TARGET_INVALID'],
    ['api github.com:443', 'EGRESS_TARGET_INVALID'], ['', 'EGRESS_TARGET_INVALID'], [`${'a'.repeat(300)}:443`, 'EGRESS_TARGET_INVALID'],
    ['[::1]:443', 'EGRESS_IP_LITERAL'], ['8.8.8.8:443', 'EGRESS_IP_LITERAL'], ['0x08080808:443', 'EGRESS_IP_LITERAL'], ['::1', 'EGRESS_IP_LITERAL'],
    ['/etc/passwd', 'EGRESS_TARGET_INVALID'], ['http://api.github.com:443', 'EGRESS_TARGET_INVALID'],
  ])('%s → %s', (authority, expected) => { expect(code(parseConnectTarget(authority))).toBe(expected); });
});

describe('checkConnectTarget / pickCheckedAddress', () => {
  it('needs an exact name and port', () => {
    expect(code(checkConnectTarget('api.github.com:443', policy))).toBe('ok');
    expect(code(checkConnectTarget('api.github.com:80', policy))).toBe('EGRESS_HOST_NOT_ALLOWED');
    expect(code(checkConnectTarget('github.com:443', policy))).toBe('EGRESS_HOST_NOT_ALLOWED');
    expect(code(checkConnectTarget('x.api.github.com:443', policy))).toBe('EGRESS_HOST_NOT_ALLOWED');
    expect(code(checkConnectTarget('api.github.com:443', { allowlist: undefined }))).toBe('EGRESS_HOST_NOT_ALLOWED');
    expect(code(checkConnectTarget('api.github.com:443', { allowlist: parseEgressAllowlist([]) }))).toBe('EGRESS_HOST_NOT_ALLOWED');
  });

  it('refuses a name when any answer is not public, and returns the first canonical answer otherwise', () => {
    const v4 = (address: string) => ({ address, family: 4 as const });
    expect(pickCheckedAddress([v4('140.82.112.3'), { address: '2606:4700:0::1', family: 6 }], policy)).toEqual({ ok: true, value: v4('140.82.112.3') });
    const r = pickCheckedAddress([v4('140.82.112.3'), v4('169.254.169.254')], policy);
    expect(r).toMatchObject({ ok: false, code: 'EGRESS_ADDRESS_FORBIDDEN', reason: 'link-local', address: '169.254.169.254' });
    expect(code(pickCheckedAddress([], policy))).toBe('EGRESS_RESOLVE_FAILED');
    expect(code(pickCheckedAddress([v4('bogus')], policy))).toBe('EGRESS_ADDRESS_FORBIDDEN');
  });
});

describe('egressRefusalReceipt', () => {
  it('is a rejected receipt with the precise code, partitioned by sandbox, hashing its subject', () => {
    const e = { atMs: 1, code: 'EGRESS_ADDRESS_FORBIDDEN' as const, reason: 'loopback', target: 'x.example.com:443', address: '127.0.0.1', sandboxId: 'sbx' };
    const r = egressRefusalReceipt(e);
    expect(r).toMatchObject({ kind: 'router.egress', partition: 'sbx', outcome: 'rejected', status: 403, code: 'EGRESS_ADDRESS_FORBIDDEN' });
    expect(r.requestHash).toMatch(/^[0-9a-f]{64}$/);
    expect(egressRefusalReceipt({ ...e, address: '127.0.0.2' }).requestHash).not.toBe(r.requestHash);
  });
});

import { describe, expect, it } from 'vitest';
import { resolveListenAddress } from '../../../core/router/listen-address';

describe('resolveListenAddress', () => {
  it('accepts loopback literals', () => {
    for (const v of ['127.0.0.1:8443', '127.1.2.3:0', '[::1]:8443']) expect(resolveListenAddress(v).ok, v).toBe(true);
  });
  it('refuses non-loopback addresses without the dev flag, accepts them (exposed) with it', () => {
    for (const v of ['0.0.0.0:8443', '10.0.0.5:8443', '[::]:8443', '[fe80::1]:8443']) {
      const r = resolveListenAddress(v);
      expect(r.ok ? 'ok' : r.code, v).toBe('ROUTER_LISTEN_NOT_LOOPBACK');
      const flagged = resolveListenAddress(v, { allowNonLoopback: true });
      expect(flagged.ok && flagged.value.exposed, v).toBe(true);
    }
  });
  it('refuses host names and malformed values as CONFIG_INVALID', () => {
    for (const v of ['localhost:8443', 'router:8443', '127.0.0.1', '127.0.0.1:99999', '999.0.0.1:1', ':8443', '127.0.0.1:84a3']) {
      const r = resolveListenAddress(v);
      expect(r.ok ? 'ok' : r.code, v).toBe('CONFIG_INVALID');
    }
  });
});

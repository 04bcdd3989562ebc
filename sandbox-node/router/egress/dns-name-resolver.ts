// The NameResolver port over the system resolver (T3-S). The name is looked up as an absolute name (trailing dot), so
// a Kubernetes search list (`ndots:5`) cannot turn `api.example.com` into `api.example.com.<ns>.svc.cluster.local`.
import { promises as dns } from 'node:dns';
import type { NameResolver } from '../../../core/ports/name-resolver.port';

export function dnsNameResolver(): NameResolver {
  return {
    async resolve(host) {
      const answers = await dns.lookup(`${host}.`, { all: true, verbatim: true });
      return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
    },
  };
}

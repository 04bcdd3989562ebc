// T3-S "Spoofed Azure endpoint via DNS hijack", model half: DNS for the configured model endpoint answers an attacker.
// Defends: a hijacked endpoint name served by an attacker with a self-signed certificate for that name, or with a certificate from a trusted CA for another name; both are refused because the host name is pinned and checked against Node's roots.
// The endpoint `model.kars.test` is resolved (through the agent's resolver port) to the attacker's loopback server.
// With the chain check or the name check off, the attacker reads the call. (The legitimate path and pinning are in
// tests/threats/T3-T-mitm.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDevTls } from '../../infra/local/tls/dev-tls';
import { createUpstreamAgent, upstreamTlsErrorCode, type UpstreamTlsMitigation } from '../../sandbox-node/router/egress/upstream-agent';
import { ScriptedResolver } from '../support/egress-net';
import { selfSignedServerCert } from '../support/test-certs';
import { getThrough, startTlsUpstream, type TlsUpstream } from '../support/tls-upstream';

let forged: TlsUpstream;
let otherName: TlsUpstream;

beforeAll(async () => {
  const dev = await ensureDevTls();
  const self = await selfSignedServerCert('model.kars.test');
  [forged, otherName] = await Promise.all([
    startTlsUpstream({ cert: self.certPem, key: self.keyPem }, 'forged-endpoint'),
    startTlsUpstream({ cert: dev.certPem, key: dev.keyPem }, 'other-name-endpoint'),
  ]);
});
afterAll(async () => { await Promise.all([forged.close(), otherName.close()]); });

async function callEndpoint(port: number, disable: UpstreamTlsMitigation[] = []): Promise<string> {
  const agent = createUpstreamAgent({
    endpoints: [{ host: 'model.kars.test', port }], keepAlive: false, _disable: disable,
    resolver: new ScriptedResolver({ 'model.kars.test': [['127.0.0.1']] }), // the hijacked answer
  });
  const r = await getThrough(agent, 'model.kars.test', port);
  return r.error ? upstreamTlsErrorCode(r.error) ?? `other:${r.error.code}` : `${r.status}:${r.body}`;
}

describe('T3-S hijacked model endpoint name', () => {
  it('ON: a self-signed certificate for the endpoint name is refused', async () => {
    expect(await callEndpoint(forged.port)).toBe('UPSTREAM_TLS_FAILED');
    expect(forged.hits()).toBe(0);
  });
  it('ON: a trusted certificate for another name is refused', async () => {
    expect(await callEndpoint(otherName.port)).toBe('UPSTREAM_TLS_FAILED');
    expect(otherName.hits()).toBe(0);
  });
  it('OFF (chain-verify / name-check): the attacker receives the call', async () => {
    expect(await callEndpoint(forged.port, ['chain-verify'])).toBe('200:forged-endpoint');
    expect(await callEndpoint(otherName.port, ['name-check'])).toBe('200:other-name-endpoint');
  });
});

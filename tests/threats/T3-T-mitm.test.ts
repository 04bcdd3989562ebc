// T3-T "MITM of model traffic": the router's https.Agent for model upstreams, against real TLS servers on loopback.
// Defends: an interceptor with an untrusted certificate, a trusted certificate for another name, a chain without the configured SPKI pin, and a request steered to a host that is not a configured endpoint.
// The legitimate upstream serves the local dev CA's certificate (trusted through NODE_EXTRA_CA_CERTS, as the dev stack
// does); the interceptor serves a self-signed one. Each attack succeeds only with its mitigation switched off.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSpkiPins } from '../../core/router/upstream/spki-pins';
import { ensureDevTls, type DevTls } from '../../infra/local/tls/dev-tls';
import { createUpstreamAgent, upstreamTlsErrorCode, type UpstreamAgentOptions } from '../../sandbox-node/router/egress/upstream-agent';
import { ScriptedResolver } from '../support/egress-net';
import { selfSignedServerCert } from '../support/test-certs';
import { getThrough, pinOf, startTlsUpstream, type TlsUpstream } from '../support/tls-upstream';

let dev: DevTls;
let model: TlsUpstream;
let mitm: TlsUpstream;
let other: TlsUpstream;

beforeAll(async () => {
  dev = await ensureDevTls();
  const fake = await selfSignedServerCert();
  [model, mitm, other] = await Promise.all([
    startTlsUpstream({ cert: dev.certPem, key: dev.keyPem }, 'model-ok'),
    startTlsUpstream({ cert: fake.certPem, key: fake.keyPem }, 'intercepted'),
    startTlsUpstream({ cert: dev.certPem, key: dev.keyPem }, 'not-an-endpoint'),
  ]);
});
afterAll(async () => { await Promise.all([model.close(), mitm.close(), other.close()]); });

// `model.kars.test` stands for the configured Azure endpoint; DNS for it is hijacked to loopback, where only a
// certificate for `localhost` is on offer.
const resolver = () => new ScriptedResolver({ localhost: [['127.0.0.1']], 'model.kars.test': [['127.0.0.1']] });
const agent = (o: Partial<UpstreamAgentOptions>) => createUpstreamAgent({
  endpoints: [{ host: 'localhost', port: model.port }, { host: 'localhost', port: mitm.port }, { host: 'model.kars.test', port: model.port }],
  resolver: resolver(), keepAlive: false, ...o,
});
const outcome = async (r: Awaited<ReturnType<typeof getThrough>>) => (r.error ? upstreamTlsErrorCode(r.error) ?? `other:${r.error.code}` : `${r.status}:${r.body}`);

describe('T3-T baseline', () => {
  it('the configured endpoint with a trusted certificate for its name answers', async () => {
    expect(await outcome(await getThrough(agent({}), 'localhost', model.port))).toBe('200:model-ok');
  });
});

describe('T3-T interceptor with an untrusted certificate', () => {
  it('ON: refused (UPSTREAM_TLS_FAILED), and a request cannot turn verification off', async () => {
    const r = await getThrough(agent({}), 'localhost', mitm.port, { rejectUnauthorized: false });
    expect(await outcome(r)).toBe('UPSTREAM_TLS_FAILED');
    expect(r.error?.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(mitm.hits()).toBe(0);
  });
  it('OFF (chain-verify): the interceptor reads the request', async () => {
    expect(await outcome(await getThrough(agent({ _disable: ['chain-verify'] }), 'localhost', mitm.port))).toBe('200:intercepted');
  });
});

describe('T3-T trusted certificate for another name (DNS hijack of the endpoint name)', () => {
  it('ON: refused (UPSTREAM_TLS_FAILED, altname)', async () => {
    const r = await getThrough(agent({}), 'model.kars.test', model.port);
    expect(await outcome(r)).toBe('UPSTREAM_TLS_FAILED');
    expect(r.error?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });
  it('ON: a request cannot swap in a servername the certificate matches', async () => {
    const r = await getThrough(agent({}), 'model.kars.test', model.port, { servername: 'localhost' });
    expect(await outcome(r)).toBe('UPSTREAM_TLS_FAILED');
  });
  it('OFF (name-check): accepted', async () => {
    expect(await outcome(await getThrough(agent({ _disable: ['name-check'] }), 'model.kars.test', model.port))).toBe('200:model-ok');
  });
});

describe('T3-T SPKI pinning', () => {
  const wrongPin = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
  it('right pin (leaf) accepted; the dev CA pin (chain) accepted too', async () => {
    expect(await outcome(await getThrough(agent({ spkiPins: parseSpkiPins([pinOf(dev.certPem)]) }), 'localhost', model.port))).toBe('200:model-ok');
    expect(await outcome(await getThrough(agent({ spkiPins: parseSpkiPins([pinOf(dev.caCertPem)]) }), 'localhost', model.port))).toBe('200:model-ok');
  });
  it('ON: a chain without the pin is refused (UPSTREAM_PIN_MISMATCH) even though it verifies', async () => {
    const before = model.hits();
    expect(await outcome(await getThrough(agent({ spkiPins: parseSpkiPins([wrongPin]) }), 'localhost', model.port))).toBe('UPSTREAM_PIN_MISMATCH');
    expect(model.hits()).toBe(before);
  });
  it('OFF (spki-pin): the unpinned chain is accepted', async () => {
    expect(await outcome(await getThrough(agent({ spkiPins: parseSpkiPins([wrongPin]), _disable: ['spki-pin'] }), 'localhost', model.port))).toBe('200:model-ok');
  });
});

describe('T3-T host names pinned to the configured endpoints', () => {
  it('ON: a request to a host:port that is not an endpoint never connects (UPSTREAM_HOST_NOT_PINNED)', async () => {
    expect(await outcome(await getThrough(agent({}), 'localhost', other.port))).toBe('UPSTREAM_HOST_NOT_PINNED');
    expect(other.hits()).toBe(0);
  });
  it('OFF (endpoint-pin): it connects', async () => {
    expect(await outcome(await getThrough(agent({ _disable: ['endpoint-pin'] }), 'localhost', other.port))).toBe('200:not-an-endpoint');
  });
});

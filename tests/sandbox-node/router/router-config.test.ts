// Router settings: one schema, seed defaults, fail fast naming the key (never the value); the pod template's router
// env parses; no setting can switch a mitigation off.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { AI_FOUNDRY_SCOPE, COGNITIVE_SERVICES_SCOPE } from '../../../core/router/model-audience';
import { ROUTER_MITIGATIONS } from '../../../core/router/router-mitigations';
import { ROUTER_SETTING_KEYS, loadRouterConfig } from '../../../sandbox-node/router/router-config';

const base = { KARS_SANDBOX_ID: 'demo', KARS_ROUTER_MODEL_ENDPOINT: 'https://x.openai.azure.com', KARS_ROUTER_DEPLOYMENTS: 'gpt-4o-mini, emb' };

describe('loadRouterConfig', () => {
  it('applies the defaults: loopback 8443, 500/1000 global, 50/100 per agent, cognitive services audience', () => {
    const c = loadRouterConfig(base);
    expect(c.listen).toBe('127.0.0.1:8443');
    expect(c.allowNonLoopback).toBe(false);
    expect(c.limits).toEqual({ globalRps: 500, globalBurst: 1000, agentRps: 50, agentBurst: 100 });
    expect([...c.deployments]).toEqual(['gpt-4o-mini', 'emb']);
    expect(c.scope).toBe(COGNITIVE_SERVICES_SCOPE);
    expect(c.agentId).toBe('demo');
  });

  it('picks the Foundry audience for a Foundry project endpoint', () => {
    expect(loadRouterConfig({ ...base, KARS_ROUTER_MODEL_ENDPOINT: 'https://r.services.ai.azure.com/api/projects/p1' }).scope).toBe(AI_FOUNDRY_SCOPE);
  });

  it('refuses plain http beyond loopback, user info and bad deployment names, naming the key only', () => {
    for (const [k, v] of [
      ['KARS_ROUTER_MODEL_ENDPOINT', 'http://x.openai.azure.com/secret-value'],
      ['KARS_ROUTER_MODEL_ENDPOINT', 'https://user:secret-value@x.openai.azure.com'],
      ['KARS_ROUTER_DEPLOYMENTS', '../secret-value'],
      ['KARS_SANDBOX_ID', 'Secret-Value!'],
      ['KARS_LIMIT_AGENT_RPS', '-1'],
    ] as const) {
      let message = '';
      try {
        loadRouterConfig({ ...base, [k]: v });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message, k).toContain(k);
      expect(message, k).not.toContain('secret-value');
    }
    expect(loadRouterConfig({ ...base, KARS_ROUTER_MODEL_ENDPOINT: 'http://127.0.0.1:9999' }).endpoint.protocol).toBe('http:');
  });

  it('T2-S: refuses the non-loopback dev flag in a cluster (KUBERNETES_SERVICE_HOST set), allows it outside one', () => {
    const flagged = { ...base, KARS_ROUTER_LISTEN: '0.0.0.0:8443', KARS_ROUTER_ALLOW_NON_LOOPBACK: 'true' };
    expect(() => loadRouterConfig({ ...flagged, KUBERNETES_SERVICE_HOST: '10.0.0.1' })).toThrow(/KARS_ROUTER_ALLOW_NON_LOOPBACK is a dev flag, refused in a cluster/);
    expect(loadRouterConfig(flagged).allowNonLoopback).toBe(true);
    expect(loadRouterConfig({ ...flagged, KUBERNETES_SERVICE_HOST: '' }).allowNonLoopback).toBe(true);
    expect(loadRouterConfig({ ...base, KUBERNETES_SERVICE_HOST: '10.0.0.1' }).allowNonLoopback).toBe(false);
  });

  it('reads the audit shipping settings: https (or loopback http) only, defaults for batch and spool', () => {
    expect(loadRouterConfig(base).audit).toBeUndefined();
    const c = loadRouterConfig({ ...base, KARS_ROUTER_AUDIT_URL: 'https://kars-func.azurewebsites.net' });
    expect(c.audit).toMatchObject({ tokenFile: '/var/run/secrets/kars/audit/token', spoolDir: '/var/lib/kars/receipt-spool', batchSize: 256, batchDelayMs: 1000 });
    expect(loadRouterConfig({ ...base, KARS_ROUTER_AUDIT_URL: 'http://127.0.0.1:7071' }).audit?.url.protocol).toBe('http:');
    for (const url of ['http://kars-func.azurewebsites.net', 'https://kars-func.azurewebsites.net/?code=secret-value']) {
      expect(() => loadRouterConfig({ ...base, KARS_ROUTER_AUDIT_URL: url })).toThrow(/KARS_ROUTER_AUDIT_URL/);
    }
    expect(() => loadRouterConfig({ ...base, KARS_ROUTER_AUDIT_BATCH_SIZE: '257' })).toThrow(/KARS_ROUTER_AUDIT_BATCH_SIZE/);
  });

  it('reads upstream TLS settings: pins as base64 SHA-256, client certificate and key together, https only', () => {
    const pin = Buffer.alloc(32, 1).toString('base64');
    expect([...loadRouterConfig({ ...base, KARS_ROUTER_UPSTREAM_SPKI_PINS: `${pin}, ${pin}` }).upstreamTls.spkiPins]).toEqual([pin]);
    expect(loadRouterConfig(base).upstreamTls).toEqual({ spkiPins: new Set(), clientCertificate: undefined });
    expect(() => loadRouterConfig({ ...base, KARS_ROUTER_UPSTREAM_SPKI_PINS: 'secret-value' })).toThrow(/^invalid settings: KARS_ROUTER_UPSTREAM_SPKI_PINS$/);
    expect(() => loadRouterConfig({ ...base, KARS_ROUTER_UPSTREAM_CLIENT_CERT_FILE: '/c.pem' })).toThrow(/go together/);
    expect(loadRouterConfig({ ...base, KARS_ROUTER_UPSTREAM_CLIENT_CERT_FILE: '/c.pem', KARS_ROUTER_UPSTREAM_CLIENT_KEY_FILE: '/k.pem' }).upstreamTls.clientCertificate)
      .toEqual({ certFile: '/c.pem', keyFile: '/k.pem' });
    expect(() => loadRouterConfig({ ...base, KARS_ROUTER_MODEL_ENDPOINT: 'http://127.0.0.1:9999', KARS_ROUTER_UPSTREAM_SPKI_PINS: pin })).toThrow(/need an https/);
  });

  it('has no setting that reaches a mitigation switch', () => {
    expect(ROUTER_SETTING_KEYS.some((k) => /disable|mitigation/i.test(k))).toBe(false);
    const c = loadRouterConfig({ ...base, _disable: ROUTER_MITIGATIONS.join(','), KARS_ROUTER__DISABLE: 'rate-limits' } as Record<string, string>);
    expect(Object.keys(c)).not.toContain('_disable');
  });

  it('parses the router env of the sandbox pod template (sandbox id from the namespace)', () => {
    const docs = parseAllDocuments(readFileSync('infra/k8s/sandbox/deployment.yaml', 'utf8')).map((d) => d.toJS());
    const deployment = docs.find((d) => d?.kind === 'Deployment');
    const router = deployment.spec.template.spec.containers.find((c: { name: string }) => c.name === 'router');
    const env: Record<string, string> = {};
    for (const e of router.env as Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>) {
      env[e.name] = e.value ?? (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace' ? deployment.metadata.namespace : '');
    }
    const c = loadRouterConfig(env);
    expect(c.listen).toBe('127.0.0.1:8443');
    expect(c.sandboxId).toBe('kars-example');
    // T2-R: receipts ship to the app with the kars-audit token the pod projects, spooled on the router-state volume.
    expect(c.audit).toMatchObject({ tokenFile: '/var/run/secrets/kars/audit/token', spoolDir: '/var/lib/kars/receipt-spool' });
  });

  it('inbound events: off without a Service Bus; the sandbox\'s own queue sbx-<id> (T1-E) and the sandbox id as session by default', () => {
    expect(loadRouterConfig(base).events).toBeUndefined();
    const local = 'Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=DEV-ONLY;UseDevelopmentEmulator=true';
    expect(loadRouterConfig({ ...base, KARS_SERVICEBUS_CONNECTION: local }).events).toEqual({
      serviceBus: { connectionString: local }, entity: 'sbx-demo', sessionId: 'demo', ackWindowMs: 60_000, maxInFlight: 32,
    });
    // The local stack: the loopback broker with the sandbox's own Entra token; a port only with the emulator switch.
    expect(loadRouterConfig({ ...base, KARS_SERVICEBUS_NAMESPACE: '127.0.0.1:5672', KARS_SERVICEBUS_EMULATOR: 'true' }).events)
      .toMatchObject({ serviceBus: { namespace: '127.0.0.1:5672', developmentEmulator: true }, entity: 'sbx-demo' });
    expect(() => loadRouterConfig({ ...base, KARS_SERVICEBUS_NAMESPACE: '127.0.0.1:5672' })).toThrow(/KARS_SERVICEBUS_NAMESPACE/);
    expect(() => loadRouterConfig({ ...base, KARS_SERVICEBUS_NAMESPACE: 'ns.servicebus.windows.net', KARS_SERVICEBUS_EMULATOR: 'true' })).toThrow(/KARS_SERVICEBUS_EMULATOR/);
    expect(loadRouterConfig({
      ...base, KARS_SERVICEBUS_NAMESPACE: 'ns.servicebus.windows.net', KARS_ROUTER_EVENTS_ENTITY: 'sb-demo-events', KARS_ROUTER_EVENTS_SESSIONLESS: 'true',
    }).events).toMatchObject({ serviceBus: { namespace: 'ns.servicebus.windows.net' }, entity: 'sb-demo-events', sessionId: undefined });
  });

  it('takes a Service Bus connection string for the local broker only, naming the key and never the value', () => {
    for (const v of [
      'Endpoint=sb://prod.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=secret-value',
      'Endpoint=sb://prod.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=secret-value;UseDevelopmentEmulator=true',
      'Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=secret-value',
    ]) {
      let message = '';
      try {
        loadRouterConfig({ ...base, KARS_SERVICEBUS_CONNECTION: v });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toContain('KARS_SERVICEBUS_CONNECTION');
      expect(message).not.toContain('secret-value');
    }
    for (const [k, v] of [['KARS_ROUTER_EVENTS_ACK_WINDOW_MS', '999'], ['KARS_ROUTER_EVENTS_MAX_IN_FLIGHT', '0'], ['KARS_ROUTER_EVENTS_ENTITY', '../x'], ['KARS_ROUTER_EVENTS_ENTITY', 'a/../b']] as const) {
      expect(() => loadRouterConfig({ ...base, KARS_SERVICEBUS_NAMESPACE: 'ns.servicebus.windows.net', [k]: v }), k).toThrow(k);
    }
  });
});

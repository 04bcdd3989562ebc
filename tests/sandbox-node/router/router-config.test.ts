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
  });
});

// T1-S "Attacker forges channel webhook", transport half: Front Door TLS and no way around it. Each attacker move
// Defends: front-door-tls, https-only, origin-certificate-check, front-door-id-restriction, ftp-disabled
// (plain HTTP, TLS 1.0/1.1, a domain outside the WAF, a direct call to the Function app host, a call through the
// attacker's own Front Door profile, FTP publishing, a cleartext or unverified origin leg) is played against the edge
// the committed Bicep describes (tests/bicep/front-door-edge.ts: main.bicep's parameters followed through the modules,
// with Azure's documented route, domain and access-restriction semantics). With the control in place the move is
// refused; in a copy of the Bicep with only that control removed it gets through, and the Bicep policy flags the copy.
// Static by necessity (no Azure here): this proves what the template tells Azure to do, not what a live edge did.
import { describe, expect, it } from 'vitest';
import { appRequest, edgeModel, FRONT_DOOR_DEFAULT_DOMAIN_MIN_TLS, frontDoorRequest, ftpLogin } from '../bicep/front-door-edge';
import type { EdgeModel } from '../bicep/front-door-edge';
import { checkBicepSources } from '../bicep/bicep-policy';
import { mutateSources, policyContext, readBicepSources } from '../bicep/bicep-sources';
import type { SourceEdit } from '../bicep/bicep-sources';

const sources = readBicepSources();
const ctx = policyContext();
const HOOK = '/api/hooks/github/h1';
const WITH_DOMAIN = { hooksCustomDomain: 'hooks.example.com' };
const OUR_PROFILE_ID = 'bicep/modules/front-door.bicep#profile.properties.frontDoorId';
// Front Door stamps X-Azure-FDID with the sending profile's id; an attacker's profile carries its own.
const ATTACKER_PROFILE_ID = 'attacker/front-door#profile.properties.frontDoorId';
const INTERNET_IP = '198.51.100.7';

interface Attack {
  name: string;
  /** Policy rule that must flag the mutated Bicep. */
  rule: string;
  edits: SourceEdit[];
  params?: Record<string, unknown>;
  run(model: EdgeModel): unknown;
  refused: unknown;
  succeeded: unknown;
}

const outcome = (m: EdgeModel, req: Parameters<typeof frontDoorRequest>[1]): string => frontDoorRequest(m, req).outcome;

const ATTACKS: Attack[] = [
  {
    name: 'a webhook sent over plain HTTP to the Front Door endpoint is never forwarded',
    rule: 'FRONT_DOOR_ROUTE',
    edits: [{ file: 'modules/front-door-origin.bicep', from: "supportedProtocols: [\n      'Https'\n    ]", to: "supportedProtocols: [\n      'Http'\n      'Https'\n    ]" }],
    run: (m) => outcome(m, { domain: 'default', scheme: 'http', path: HOOK }),
    refused: 'no-route',
    succeeded: 'forwarded',
  },
  {
    name: 'a TLS 1.0 ClientHello on the custom hook domain is refused',
    rule: 'FRONT_DOOR_TLS',
    params: WITH_DOMAIN,
    edits: [{ file: 'modules/front-door.bicep', from: "minimumTlsVersion: 'TLS12'", to: "minimumTlsVersion: 'TLS10'" }],
    run: (m) => [outcome(m, { domain: 'custom', scheme: 'https', tls: '1.0', path: HOOK }), outcome(m, { domain: 'custom', scheme: 'https', tls: '1.1', path: HOOK })],
    refused: ['tls-refused', 'tls-refused'],
    succeeded: ['forwarded', 'forwarded'],
  },
  {
    name: 'a request on the custom domain passes the WAF',
    rule: 'WAF_COVERAGE',
    params: WITH_DOMAIN,
    edits: [{ file: 'modules/front-door.bicep', from: "], empty(hooksCustomDomain) ? [] : [\n            {\n              id: customDomain.id\n            }\n          ])", to: '], [])' }],
    run: (m) => {
      const r = frontDoorRequest(m, { domain: 'custom', scheme: 'https', tls: '1.2', path: HOOK });
      return r.outcome === 'forwarded' ? r.wafInspected : r.outcome;
    },
    refused: true,
    succeeded: false,
  },
  {
    name: 'Front Door never forwards a webhook to the origin in cleartext',
    rule: 'FRONT_DOOR_ROUTE',
    edits: [{ file: 'modules/front-door-origin.bicep', from: "forwardingProtocol: 'HttpsOnly'", to: "forwardingProtocol: 'HttpOnly'" }],
    run: (m) => {
      const r = frontDoorRequest(m, { domain: 'default', scheme: 'https', tls: '1.2', path: HOOK });
      return r.outcome === 'forwarded' ? r.originLeg : r.outcome;
    },
    refused: 'https-verified',
    succeeded: 'cleartext',
  },
  {
    name: 'an impostor origin certificate is not accepted on the Front Door → app leg',
    rule: 'FRONT_DOOR_ORIGIN',
    edits: [{ file: 'modules/front-door-origin.bicep', from: 'enforceCertificateNameCheck: true', to: 'enforceCertificateNameCheck: false' }],
    run: (m) => {
      const r = frontDoorRequest(m, { domain: 'default', scheme: 'https', tls: '1.2', path: HOOK });
      return r.outcome === 'forwarded' ? r.originLeg : r.outcome;
    },
    refused: 'https-verified',
    succeeded: 'https-unverified',
  },
  {
    name: 'the admin routes are not reachable through Front Door',
    rule: 'FRONT_DOOR_ROUTE',
    edits: [{ file: 'modules/front-door-origin.bicep', from: "'/api/hooks/*'", to: "'/*'" }],
    run: (m) => outcome(m, { domain: 'default', scheme: 'https', tls: '1.2', path: '/api/manage/hooks' }),
    refused: 'no-route',
    succeeded: 'forwarded',
  },
  {
    name: 'a direct call to the Function app host from the Internet is denied (no bypass of TLS edge and WAF)',
    rule: 'FUNCTIONS_FRONT_DOOR_ONLY',
    edits: [{ file: 'modules/function-app.bicep', from: "ipSecurityRestrictionsDefaultAction: 'Deny'", to: "ipSecurityRestrictionsDefaultAction: 'Allow'" }],
    run: (m) => appRequest(m.app, { from: { ip: INTERNET_IP }, scheme: 'https', tls: '1.2' }),
    refused: 'denied',
    succeeded: 'served-https',
  },
  {
    name: "a call through the attacker's own Front Door profile (AzureFrontDoor.Backend, its own X-Azure-FDID) is denied",
    rule: 'FUNCTIONS_FRONT_DOOR_ONLY',
    edits: [{ file: 'modules/function-app.bicep', from: "  headers: {\n    'x-azure-fdid': [\n      frontDoorId\n    ]\n  }\n", to: '' }],
    run: (m) => appRequest(m.app, { from: { serviceTag: 'AzureFrontDoor.Backend' }, frontDoorId: ATTACKER_PROFILE_ID, scheme: 'https', tls: '1.2' }),
    refused: 'denied',
    succeeded: 'served-https',
  },
  {
    name: 'the shipped default admits no direct caller (operator ranges are opt-in)',
    rule: 'FUNCTIONS_FRONT_DOOR_ONLY',
    edits: [{ file: 'main.bicep', from: 'param operatorIpRanges array = []', to: "param operatorIpRanges array = [\n  '0.0.0.0/0'\n]" }],
    run: (m) => appRequest(m.app, { from: { ip: INTERNET_IP }, scheme: 'https', tls: '1.2' }),
    refused: 'denied',
    succeeded: 'served-https',
  },
  {
    name: 'plain HTTP to the app host is redirected, never served',
    rule: 'FUNCTIONS_HTTPS',
    edits: [{ file: 'modules/function-app.bicep', from: 'httpsOnly: true', to: 'httpsOnly: false' }],
    run: (m) => appRequest(m.app, { from: { serviceTag: 'AzureFrontDoor.Backend' }, frontDoorId: OUR_PROFILE_ID, scheme: 'http' }),
    refused: 'redirected-to-https',
    succeeded: 'served-cleartext',
  },
  {
    name: 'TLS 1.0 and 1.1 to the app host are refused',
    rule: 'FUNCTIONS_TLS',
    edits: [{ file: 'modules/function-app.bicep', from: "      minTlsVersion: '1.2'", to: "      minTlsVersion: '1.0'" }],
    run: (m) => (['1.0', '1.1'] as const).map((tls) => appRequest(m.app, { from: { serviceTag: 'AzureFrontDoor.Backend' }, frontDoorId: OUR_PROFILE_ID, scheme: 'https', tls })),
    refused: ['tls-refused', 'tls-refused'],
    succeeded: ['served-https', 'served-https'],
  },
  {
    name: 'TLS 1.1 to the SCM (deployment) endpoint is refused',
    rule: 'FUNCTIONS_TLS',
    edits: [{ file: 'modules/function-app.bicep', from: "scmMinTlsVersion: '1.2'", to: "scmMinTlsVersion: '1.0'" }],
    run: (m) => appRequest(m.app, { from: { ip: INTERNET_IP }, scheme: 'https', tls: '1.1', site: 'scm' }),
    refused: 'tls-refused',
    succeeded: 'served-https',
  },
  {
    name: 'FTP publishing with basic credentials is refused (FTP off and basic credentials off: either one holds it)',
    rule: 'FUNCTIONS_FTP',
    edits: [
      { file: 'modules/function-app.bicep', from: "ftpsState: 'Disabled'", to: "ftpsState: 'AllAllowed'" },
      { file: 'modules/function-app.bicep', from: "name: 'ftp'\n  properties: {\n    allow: false", to: "name: 'ftp'\n  properties: {\n    allow: true" },
    ],
    run: (m) => ftpLogin(m.app, 'ftp'),
    refused: 'refused',
    succeeded: 'accepted',
  },
];

describe('T1-S transport: the committed Bicep refuses each attack', () => {
  it.each(ATTACKS)('$name', ({ run, params, refused }) => {
    expect(run(edgeModel(sources, params))).toEqual(refused);
  });

  it('the policy reports nothing on the committed sources', () => {
    expect(checkBicepSources(sources, ctx)).toEqual([]);
  });
});

describe('T1-S transport: with the control removed the same attack gets through, and the policy flags it', () => {
  it.each(ATTACKS)('$name → $rule', ({ run, params, edits, succeeded, rule }) => {
    const mutated = mutateSources(sources, edits);
    expect(run(edgeModel(mutated, params))).toEqual(succeeded);
    expect(checkBicepSources(mutated, ctx).map((v) => v.rule)).toContain(rule);
  });

  it('FTP stays refused when only one of its two controls is removed', () => {
    const [ftps, creds] = ATTACKS.find((a) => a.rule === 'FUNCTIONS_FTP')!.edits;
    expect(ftpLogin(edgeModel(mutateSources(sources, [ftps!])).app, 'ftp')).toBe('refused');
    expect(ftpLogin(edgeModel(mutateSources(sources, [creds!])).app, 'ftp')).toBe('refused');
  });
});

describe('T1-S transport: the legitimate path still works (the model does not refuse everything)', () => {
  it.each([
    { domain: 'default' as const, tls: '1.2' as const },
    { domain: 'default' as const, tls: '1.3' as const },
    { domain: 'custom' as const, tls: '1.2' as const },
  ])('a provider POSTs a webhook over TLS $tls on the $domain domain: WAF-inspected, re-encrypted, admitted', ({ domain, tls }) => {
    const r = frontDoorRequest(edgeModel(sources, WITH_DOMAIN), { domain, scheme: 'https', tls, path: HOOK });
    expect(r).toEqual({ outcome: 'forwarded', wafInspected: true, originLeg: 'https-verified', app: 'served-https' });
  });

  it("the app admits exactly this deployment's profile: wired to another value, even our own Front Door is denied", () => {
    const m = edgeModel(mutateSources(sources, [{ file: 'main.bicep', from: 'frontDoorId: frontDoor.outputs.frontDoorId', to: 'frontDoorId: frontDoor.outputs.profileName' }]));
    const r = frontDoorRequest(m, { domain: 'default', scheme: 'https', tls: '1.2', path: HOOK });
    expect(r.outcome === 'forwarded' && r.app).toBe('denied');
  });

  it('without hooksCustomDomain only the azurefd.net domain exists; its TLS floor is the platform\'s (1.2), not a template setting', () => {
    const m = edgeModel(sources);
    expect(m.domains.map((d) => d.kind)).toEqual(['default']);
    expect(() => frontDoorRequest(m, { domain: 'custom', scheme: 'https', path: HOOK })).toThrow(/no custom domain/);
    expect(FRONT_DOOR_DEFAULT_DOMAIN_MIN_TLS).toBe('1.2');
    expect(outcome(m, { domain: 'default', scheme: 'https', tls: '1.1', path: HOOK })).toBe('tls-refused');
  });
});

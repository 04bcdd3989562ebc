// `kars audit verify --report` sends one kars.audit.verify event (verdict and counts only) to the Application
// Insights track endpoint with an Entra token for Azure Monitor (real @azure/identity against the local identity
// endpoint); the alert in bicep/modules/alerts.bicep queries exactly this event name and property.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkloadIdentityCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectionString, sendAuditVerifyReport } from '../../../cli/commands/audit-verify-report';
import { readBicepSources } from '../../bicep/bicep-sources';
import { startIdentityServer, type IdentityServer } from '../../../infra/local/identity/identity-server';

const IKEY = '11111111-2222-4333-8444-555555555555';

describe('sendAuditVerifyReport', () => {
  let id: IdentityServer;
  let server: Server;
  let url = '';
  const received: Array<{ path: string; auth: string; body: unknown }> = [];
  beforeAll(async () => {
    id = await startIdentityServer();
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', auth: String(req.headers.authorization ?? ''), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"itemsReceived":1,"itemsAccepted":1}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await id?.stop();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('posts the verdict as a kars.audit.verify event with an Azure Monitor token, and the alert queries that event', async () => {
    const credential = () => new WorkloadIdentityCredential({
      tenantId: id.tenantId, clientId: id.clientId, tokenFilePath: id.federatedTokenFile, authorityHost: id.authorityHost, disableInstanceDiscovery: true,
    });
    await sendAuditVerifyReport(`InstrumentationKey=${IKEY};IngestionEndpoint=${url}`, { verdict: 'broken', chains: 16, brokenChains: 1, receipts: 900 }, Date.UTC(2026, 0, 1), credential);
    expect(received).toHaveLength(1);
    expect(received[0]!.path).toBe('/v2.1/track');
    const token = received[0]!.auth.replace(/^Bearer /, '');
    expect(await id.verifyAccessToken(token, 'https://monitor.azure.com/')).toMatchObject({ ok: true });
    expect(received[0]!.body).toEqual([expect.objectContaining({
      iKey: IKEY,
      data: { baseType: 'EventData', baseData: expect.objectContaining({ name: 'kars.audit.verify', properties: { verdict: 'broken' } }) },
    })]);
    const alerts = readBicepSources().get('bicep/modules/alerts.bicep')!;
    expect(alerts).toContain('customEvents | where name == "kars.audit.verify"');
    expect(alerts).toContain('tostring(customDimensions.verdict) != "intact"');
  });

  it('refuses a connection string without a key or with a cleartext remote endpoint', () => {
    expect(() => parseConnectionString('IngestionEndpoint=https://x.in.applicationinsights.azure.com/')).toThrow(/InstrumentationKey/);
    expect(() => parseConnectionString(`InstrumentationKey=${IKEY};IngestionEndpoint=http://x.example.com/`)).toThrow(/https/);
  });
});

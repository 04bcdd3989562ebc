// `kars audit verify --report`: one `kars.audit.verify` event per run to Application Insights (the track endpoint of
// the connection string, Entra-authenticated: the component has local auth off), so the alert in
// bicep/modules/alerts.bicep fires on a broken chain and on a day without any verdict. Only the verdict and counts are
// sent, never a receipt, key or document.
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { isLoopbackUrl } from '../../adapters/identity/loopback';
import { CliUsageError } from '../command';

export type AuditVerdict = 'intact' | 'broken' | 'unreadable';

/** Entra audience of Application Insights ingestion. */
export const MONITOR_SCOPE = 'https://monitor.azure.com//.default';

export interface AuditVerifyReport {
  verdict: AuditVerdict;
  chains: number;
  brokenChains: number;
  receipts: number;
}

/** IngestionEndpoint and InstrumentationKey of a connection string (an identifier, not a credential, with local auth off). */
export function parseConnectionString(text: string): { ingestionEndpoint: string; instrumentationKey: string } {
  const parts = new Map(text.split(';').map((p) => p.split('=')).filter((kv) => kv.length >= 2).map(([k, ...v]) => [k!.trim().toLowerCase(), v.join('=').trim()]));
  const instrumentationKey = parts.get('instrumentationkey');
  const ingestion = parts.get('ingestionendpoint');
  if (!instrumentationKey || !/^[0-9a-f-]{36}$/i.test(instrumentationKey) || !ingestion) throw new CliUsageError('APPLICATIONINSIGHTS_CONNECTION_STRING needs InstrumentationKey and IngestionEndpoint');
  let url: URL;
  try {
    url = new URL(ingestion);
  } catch {
    throw new CliUsageError('APPLICATIONINSIGHTS_CONNECTION_STRING: IngestionEndpoint is not a URL');
  }
  if (url.protocol !== 'https:' && !isLoopbackUrl(url.toString())) throw new CliUsageError('APPLICATIONINSIGHTS_CONNECTION_STRING: IngestionEndpoint must be https');
  return { ingestionEndpoint: url.toString().replace(/\/+$/, ''), instrumentationKey };
}

/** @throws Error when the event was not accepted (the caller reports it; the verdict's exit code stands). */
export async function sendAuditVerifyReport(
  connectionString: string, report: AuditVerifyReport, nowMs: number,
  credential: () => TokenCredential = () => new DefaultAzureCredential(),
): Promise<void> {
  const { ingestionEndpoint, instrumentationKey } = parseConnectionString(connectionString);
  const token = await credential().getToken(MONITOR_SCOPE);
  if (!token) throw new Error('no token for Azure Monitor');
  const envelope = [{
    name: 'Microsoft.ApplicationInsights.Event',
    time: new Date(nowMs).toISOString(),
    iKey: instrumentationKey,
    tags: { 'ai.cloud.role': 'kars-audit-verify' },
    data: {
      baseType: 'EventData',
      baseData: {
        ver: 2,
        name: 'kars.audit.verify',
        properties: { verdict: report.verdict },
        measurements: { chains: report.chains, brokenChains: report.brokenChains, receipts: report.receipts },
      },
    },
  }];
  const res = await fetch(`${ingestionEndpoint}/v2.1/track`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token.token}` },
    body: JSON.stringify(envelope),
  });
  await res.text();
  if (!res.ok) throw new Error(`Application Insights answered ${res.status}`);
}

// Health probe for Azure Storage (Azurite locally): one table-service and one blob-service round trip, no retries,
// bounded by the caller's AbortSignal and its own deadline, so a dead emulator reports "down" within ~2 s.
import type { HealthProbe } from '../../core/ports/health-probe.port';
import type { TokenCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import { TableServiceClient } from '@azure/data-tables';
import { Redacted } from '../../core/secrets/redacted';
import { createBlobServiceClient, createTableServiceClient } from './storage-clients';
import { translateStorageError } from './translate-storage-error';

export interface StorageHealthProbeOptions {
  /** Dependency name in /api/health. Default 'storage'. */
  name?: string;
  /** Own deadline on top of the caller's signal. Default 2000 ms. */
  timeoutMs?: number;
}

/** An account reached with its managed identity (Azure: AzureWebJobsStorage__accountName, no key anywhere). */
export interface IdentityStorageAccount {
  accountName: string;
  credential: TokenCredential;
}

function clientsFor(target: Redacted<string> | IdentityStorageAccount): { tables: TableServiceClient; blobs: BlobServiceClient } {
  // No SDK retries: a probe answers "is it up now", the caller decides about retrying.
  if (target instanceof Redacted) {
    return { tables: createTableServiceClient(target, { maxRetries: 0 }), blobs: createBlobServiceClient(target, { maxRetries: 0 }) };
  }
  return {
    tables: new TableServiceClient(`https://${target.accountName}.table.core.windows.net`, target.credential, { retryOptions: { maxRetries: 0 } }),
    blobs: new BlobServiceClient(`https://${target.accountName}.blob.core.windows.net`, target.credential, { retryOptions: { maxTries: 1 } }),
  };
}

export function createStorageHealthProbe(target: Redacted<string> | IdentityStorageAccount, options: StorageHealthProbeOptions = {}): HealthProbe {
  const { tables, blobs } = clientsFor(target);
  const timeoutMs = options.timeoutMs ?? 2000;
  return {
    name: options.name ?? 'storage',
    async check(signal: AbortSignal): Promise<void> {
      const abortSignal = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
      try {
        await Promise.all([tables.getProperties({ abortSignal }), blobs.getProperties({ abortSignal })]);
      } catch (e) {
        throw translateStorageError(e, 'storage health probe');
      }
    },
  };
}

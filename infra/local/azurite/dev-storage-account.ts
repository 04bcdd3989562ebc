// DEV-ONLY: Azurite's built-in account. The key is published in the Azurite README, is the same on every machine and
// is never valid against Azure; it exists only so local connection strings look exactly like real ones.
export const DEV_STORAGE_ACCOUNT_NAME = 'devstoreaccount1';
export const DEV_STORAGE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface DevStoragePorts {
  blobPort: number;
  queuePort: number;
  tablePort: number;
}

/**
 * A connection string with explicit endpoints (usable as AzureWebJobsStorage for `func start`, the storage SDKs and
 * the local Durable runner). DEV-ONLY: carries the public Azurite key.
 */
export function devStorageConnectionString(ports: DevStoragePorts, host = '127.0.0.1'): string {
  const base = (port: number) => `http://${host}:${port}/${DEV_STORAGE_ACCOUNT_NAME}`;
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${DEV_STORAGE_ACCOUNT_NAME}`,
    `AccountKey=${DEV_STORAGE_ACCOUNT_KEY}`,
    `BlobEndpoint=${base(ports.blobPort)}`,
    `QueueEndpoint=${base(ports.queuePort)}`,
    `TableEndpoint=${base(ports.tablePort)}`,
  ].join(';') + ';';
}

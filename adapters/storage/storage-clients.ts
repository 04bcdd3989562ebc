// Builds Table and Blob clients from an Azure Storage connection string (Azurite locally, a real account in Azure);
// plain-http endpoints are accepted only when the connection string itself names them (local emulator).
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import type { Redacted } from '../../core/secrets/redacted';

export interface StorageClientOptions {
  /** SDK retries per call. Default 2: the local runner and the health probe have their own loops and deadlines. */
  maxRetries?: number;
}

/** True when the connection string points at plain-http endpoints (the local emulator). */
export function isPlainHttpConnection(connectionString: Redacted<string>): boolean {
  return /(^|;)\s*(UseDevelopmentStorage=true|DefaultEndpointsProtocol=http(;|$)|[A-Za-z]+Endpoint=http:)/i.test(connectionString.reveal());
}

function retryOptions(options: StorageClientOptions) {
  return { maxRetries: options.maxRetries ?? 2, retryDelayInMs: 100, maxRetryDelayInMs: 1000 };
}

export function createTableClient(connectionString: Redacted<string>, tableName: string, options: StorageClientOptions = {}): TableClient {
  return TableClient.fromConnectionString(connectionString.reveal(), tableName, {
    allowInsecureConnection: isPlainHttpConnection(connectionString),
    retryOptions: retryOptions(options),
  });
}

export function createTableServiceClient(connectionString: Redacted<string>, options: StorageClientOptions = {}): TableServiceClient {
  return TableServiceClient.fromConnectionString(connectionString.reveal(), {
    allowInsecureConnection: isPlainHttpConnection(connectionString),
    retryOptions: retryOptions(options),
  });
}

export function createBlobServiceClient(connectionString: Redacted<string>, options: StorageClientOptions = {}): BlobServiceClient {
  const r = retryOptions(options);
  // Blob uses the older retry option names: tries = retries + 1.
  return BlobServiceClient.fromConnectionString(connectionString.reveal(), {
    retryOptions: { maxTries: r.maxRetries + 1, retryDelayInMs: r.retryDelayInMs, maxRetryDelayInMs: r.maxRetryDelayInMs },
  });
}

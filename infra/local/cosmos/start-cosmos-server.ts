// Local stand-in for Azure Cosmos DB: @zeit/cosmosdb-server over plain http (its bundled TLS cert has expired). With a
// data directory every change is journaled and on disk before it is acknowledged, and a restart (even after SIGKILL)
// brings back every database, container and document exactly (same _rid, _etag, _ts).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Account from '@zeit/cosmosdb-server/lib/account';
import { KarsError } from '../../../core/errors';
import { DurableLog } from '../journal/durable-log';
import { journalAccount, type AccountJournal, type CosmosRecord } from './account-journal';
import { handleCosmosRequest, IN_MEMORY, type Durability } from './handle-cosmos-request';

/**
 * DEV-ONLY: the publicly documented Cosmos DB emulator key. The local server accepts any key; the SDK only needs a
 * base64 string to sign with. Never use it against a real account.
 */
export const LOCAL_COSMOS_DEV_KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

/** The journal's file name inside the data directory. */
export const COSMOS_JOURNAL_FILE = 'cosmos-journal.log';

export interface StartCosmosServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1; the server has no authentication, keep it on loopback. */
  host?: string;
  /** Keeps the data in `<dataDir>/cosmos-journal.log`; without it the data lives in memory only. */
  dataDir?: string;
  /** Compaction thresholds of the journal (tests make them small). */
  compactFactor?: number;
  compactSlack?: number;
}

export interface LocalCosmosServer {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  /** DEV-ONLY key (LOCAL_COSMOS_DEV_KEY). */
  key: string;
  /** With a data directory: what the start found on disk. */
  restored?: { items: number; tornBytes: number };
  /** With a data directory: group commits so far and records in the journal file (benchmarks, tests). */
  journalStats(): { commits: number; recordsOnDisk: number } | undefined;
  /** Fires once if the journal cannot write (the server then answers 503 to everything). */
  onJournalFailure(listener: (e: unknown) => void): void;
  /** Closes the listener and every open connection, then the journal. Without a data directory the data is lost. */
  stop(): Promise<void>;
}

/**
 * @throws KarsError DEPENDENCY_UNAVAILABLE when the port cannot be bound
 * @throws Error when the journal is corrupt before its tail (it is never silently cut short there)
 */
export async function startCosmosServer(options?: StartCosmosServerOptions): Promise<LocalCosmosServer> {
  const host = options?.host ?? '127.0.0.1';
  let journal: AccountJournal | undefined;
  const opened = options?.dataDir === undefined
    ? undefined
    : await DurableLog.open<CosmosRecord>(join(options.dataDir, COSMOS_JOURNAL_FILE), {
      snapshot: () => journal!.snapshot(),
      liveCount: () => journal!.liveCount(),
      ...(options.compactFactor !== undefined ? { compactFactor: options.compactFactor } : {}),
      ...(options.compactSlack !== undefined ? { compactSlack: options.compactSlack } : {}),
    });
  const log = opened?.log;
  let account: Account | undefined;
  let durability: Durability = IN_MEMORY;
  const failureListeners: Array<(e: unknown) => void> = [];
  let failureReported = false;
  const reportFailure = (e: unknown): never => {
    if (!failureReported) {
      failureReported = true;
      for (const listener of failureListeners) listener(e);
    }
    throw e;
  };
  const server = createServer((req, res) => {
    if (account) {
      handleCosmosRequest(account, durability, req, res);
    } else {
      res.statusCode = 503;
      res.end();
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => {
        reject(new KarsError('DEPENDENCY_UNAVAILABLE', `local cosmos server could not listen: ${(e as { code?: string }).code ?? e.name}`));
      };
      server.once('error', onError);
      server.listen(options?.port ?? 0, host, () => {
        server.off('error', onError);
        // Built and replayed synchronously here, before the first connection is read (as cosmosdb-server does).
        const address = server.address() as AddressInfo;
        const fresh = new Account(host === '0.0.0.0' || host === '::' ? 'localhost' : host, address.port);
        if (opened && log) {
          journal = journalAccount(fresh, (record) => log.append(record));
          try {
            journal.replay(opened.records);
          } catch (e) {
            reject(e);
            return;
          }
          durability = { durable: () => log.durable().catch(reportFailure), failed: () => log.failed };
        }
        account = fresh;
        resolve();
      });
    });
    // A start that found superseded versions or deletes rewrites the file as a snapshot (a torn tail is already cut).
    if (opened && log && journal && opened.records.length > journal.snapshot().length) await log.compact();
  } catch (e) {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await log?.close().catch(() => undefined);
    throw e;
  }
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://${urlHost}:${port}`,
    port,
    key: LOCAL_COSMOS_DEV_KEY,
    ...(opened && journal ? { restored: { items: journal.liveCount(), tornBytes: opened.tornBytes } } : {}),
    journalStats: () => (log ? { commits: log.commits, recordsOnDisk: log.recordsOnDisk } : undefined),
    onJournalFailure(listener) {
      failureListeners.push(listener);
    },
    stop(): Promise<void> {
      stopped ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await log?.close().catch(() => undefined);
      })();
      return stopped;
    },
  };
}

// What `kars audit verify` and `kars audit prove` share: trusted public keys and the Cosmos receipt store from flags/env.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DefaultAzureCredential } from '@azure/identity';
import type { CosmosConnection } from '../../adapters/cosmos/cosmos-client';
import { parseEd25519PublicKey } from '../../core/audit/ed25519-keys';
import { redact } from '../../core/secrets/redacted';
import type { CliIo } from '../command';
import { CliUsageError } from '../command';

export interface ReceiptStoreFlags {
  endpoint?: string;
  key?: string;
}

export function readPublicKey(arg: string, cwd: string): ReturnType<typeof parseEd25519PublicKey> {
  const path = resolve(cwd, arg);
  try {
    if (arg.length < 4096 && existsSync(path)) {
      const bytes = readFileSync(path);
      const text = bytes.toString('utf8').trim();
      return parseEd25519PublicKey(text.includes('-----BEGIN') || /^[A-Za-z0-9+/=_-]+$/.test(text) ? text : new Uint8Array(bytes));
    }
    return parseEd25519PublicKey(arg);
  } catch {
    throw new CliUsageError('--public-key is neither a readable key file nor base64 of a 32-byte Ed25519 public key');
  }
}

export function readConnection(flags: ReceiptStoreFlags, env: CliIo['env']): CosmosConnection {
  const endpoint = flags.endpoint ?? env['KARS_COSMOS_ENDPOINT'];
  if (!endpoint) throw new CliUsageError('no Cosmos endpoint: pass --cosmos-endpoint or set KARS_COSMOS_ENDPOINT');
  const key = flags.key ?? env['KARS_COSMOS_KEY'];
  if (key) return { endpoint, key: redact(key) };
  return { endpoint, credential: new DefaultAzureCredential() };
}


// `kars trust sign`: signs one trust update with a local Ed25519 key (T4-E) and prints the POST /api/trust/updates
// body; `--post` sends it. The private key is read from a file or an environment variable, never from a flag value.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { KarsError } from '../../core/errors';
import { isEntityId } from '../../core/edge/edge-ids';
import { parseEd25519PrivateKey } from '../../core/audit/ed25519-keys';
import { TRUST_SIGNAL_KINDS, type TrustSignalKind } from '../../core/trust/apply-signal';
import { signTrustPayload, trustIssuerKey } from '../../core/trust/trust-signature';
import { isDid, type TrustPayload } from '../../core/trust/trust-update';
import type { CliCommand, CliIo } from '../command';
import { CliUsageError } from '../command';
import { parseBaseUrl } from './webhook-send';
import { operatorAuthHeaders } from './operator-credentials';

const USAGE = `usage: kars trust sign --tenant <id> (--key-file <pem> | --signing-key-env <VAR>)
       (--signal <success|failure|content-safety|explicit> --observer <sandbox> --subject <did> [--delta <n>]
        | --edge --from <did> --to <did> --weight <0..1000>)
       [--post [--url <url>] [--scope <api://…/.default>] [--key-env <VAR>]]
  --key-file         PKCS#8 PEM Ed25519 private key (openssl genpkey -algorithm ed25519)
  --signing-key-env  environment variable holding that key (PEM, or base64 of the 32-byte seed)
  --delta            explicit signals only; the service clamps every delta to ±200
  --post             send the signed update to POST /api/trust/updates (an operator route) instead of printing it:
                     Azure: Entra token for --scope (default $KARS_OPERATOR_SCOPE) from az login, Kars.Operator role;
                     local stack (loopback --url): the master key from --key-env (default KARS_LOCAL_MASTER_KEY)
  prints             the request body on stdout and "issuer <key>" on stderr (register that key for the tenant
                     with PUT /api/manage/trust/issuers/<tenant>)
  exit codes         0 done, 1 refused by the API, 2 usage error`;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

function readKey(io: CliIo, file: string | undefined, envName: string | undefined): ReturnType<typeof parseEd25519PrivateKey> {
  if ((file === undefined) === (envName === undefined)) throw new CliUsageError('give exactly one of --key-file and --signing-key-env');
  let text: string;
  if (file !== undefined) {
    try {
      text = readFileSync(resolve(io.cwd, file), 'utf8');
    } catch {
      throw new CliUsageError('--key-file could not be read');
    }
  } else {
    if (!ENV_NAME.test(envName!)) throw new CliUsageError('--signing-key-env must name an environment variable');
    const v = io.env[envName!];
    if (!v) throw new CliUsageError(`environment variable ${envName} is not set`);
    text = v;
  }
  try {
    return parseEd25519PrivateKey(text);
  } catch {
    throw new KarsError('CONFIG_INVALID', 'the signing key is not an Ed25519 private key');
  }
}

function buildUpdate(v: Record<string, string | boolean | undefined>): TrustPayload['update'] {
  if (v.edge === true) {
    if (v.signal !== undefined) throw new CliUsageError('give either --signal or --edge');
    const weight = Number(v.weight);
    if (!isDid(v.from) || !isDid(v.to)) throw new CliUsageError('--from and --to must be DIDs');
    if (!Number.isInteger(weight) || weight < 0 || weight > 1000) throw new CliUsageError('--weight must be an integer 0..1000');
    return { type: 'edge', from: v.from, to: v.to, weight };
  }
  if (!TRUST_SIGNAL_KINDS.includes(v.signal as TrustSignalKind)) throw new CliUsageError(`--signal must be one of ${TRUST_SIGNAL_KINDS.join(', ')}`);
  if (!isEntityId(v.observer)) throw new CliUsageError('--observer must be a sandbox id');
  if (!isDid(v.subject)) throw new CliUsageError('--subject must be a DID');
  const kind = v.signal as TrustSignalKind;
  if (v.delta !== undefined && kind !== 'explicit') throw new CliUsageError('--delta is for --signal explicit only');
  const delta = v.delta === undefined ? undefined : Number(v.delta);
  if (delta !== undefined && !Number.isSafeInteger(delta)) throw new CliUsageError('--delta must be an integer');
  return { type: 'signal', observer: v.observer, subject: v.subject, kind, ...(delta !== undefined ? { delta } : {}) };
}

export const trustSignCommand: CliCommand = {
  name: 'trust sign',
  summary: 'sign a trust update with a local Ed25519 key (print it, or --post it)',
  usage: USAGE,
  async run(args, io) {
    let v: Record<string, string | boolean | undefined>;
    try {
      v = parseArgs({
        args: [...args], strict: true, allowPositionals: false,
        options: {
          tenant: { type: 'string' }, 'key-file': { type: 'string' }, 'signing-key-env': { type: 'string' },
          signal: { type: 'string' }, observer: { type: 'string' }, subject: { type: 'string' }, delta: { type: 'string' },
          edge: { type: 'boolean' }, from: { type: 'string' }, to: { type: 'string' }, weight: { type: 'string' },
          post: { type: 'boolean' }, url: { type: 'string' }, 'key-env': { type: 'string' }, scope: { type: 'string' },
        },
      }).values;
    } catch (e) {
      throw new CliUsageError(e instanceof Error ? e.message.split('\n')[0] ?? 'bad flags' : 'bad flags');
    }
    if (!isEntityId(v.tenant)) throw new CliUsageError('--tenant is a required id');
    const update = buildUpdate(v);
    const key = readKey(io, v['key-file'] as string | undefined, v['signing-key-env'] as string | undefined);
    const payload: TrustPayload = {
      v: 1, tenantId: v.tenant, issuer: trustIssuerKey(key), issuedAtSec: Math.floor(Date.now() / 1000),
      nonce: randomBytes(16).toString('base64url'), update,
    };
    const body = JSON.stringify({ updates: [signTrustPayload(payload, key)] });
    io.err(`issuer ${payload.issuer}`);
    if (v.post !== true) {
      io.out(body);
      return 0;
    }
    const url = parseBaseUrl((v.url as string | undefined) ?? 'http://127.0.0.1:7071');
    const auth = await operatorAuthHeaders(io, url, {
      ...(v['key-env'] !== undefined ? { keyEnv: v['key-env'] as string } : {}), ...(v.scope !== undefined ? { scope: v.scope as string } : {}),
    });
    let response: Response;
    try {
      response = await fetch(`${url}/api/trust/updates`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body });
    } catch (e) {
      throw new KarsError('DEPENDENCY_UNAVAILABLE', `could not reach ${url} (${(e as { cause?: { code?: string } }).cause?.code ?? 'network error'})`);
    }
    io.out(`HTTP ${response.status} ${await response.text()}`);
    return response.ok ? 0 : 1;
  },
};

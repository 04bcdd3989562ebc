// `kars webhook send`: signs a webhook with the channel's real scheme and POSTs it to the edge, so an operator (or a
// newcomer against `npm start`) can check a hook end to end. The secret is read from an environment variable, never
// from a flag (flags end up in shell history and `ps`).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { KarsError } from '../../core/errors';
import { isHookId } from '../../core/edge/edge-ids';
import { redact } from '../../core/secrets/redacted';
import { isWebhookChannel } from '../../core/webhook/verify-webhook';
import type { CliCommand, CliIo } from '../command';
import { CliUsageError } from '../command';
import { sampleWebhookBody, signWebhookRequest } from './webhook-signing';

const USAGE = `usage: kars webhook send --channel <standard|github|slack|teams> --hook <hook id> --secret-env <VAR>
       [--url <function app base url>] [--body-file <file>] [--event <github event>] [--id <delivery id>]
       [--tenant <tenant id>]
  --secret-env   name of the environment variable holding the hook's signing secret (never pass the secret itself)
  --url          base URL of the Function app (default http://127.0.0.1:7071, the local stack); no query string
  --body-file    JSON body to send (default: a small sample event for the channel)
  --event        X-GitHub-Event for github (default ping, or push with --body-file)
  --tenant       adds x-kars-tenant (the edge refuses it with 403 unless it names the hook's tenant)
  exit codes     0 when the edge answered 2xx, 1 otherwise, 2 usage error`;

export const webhookSendCommand: CliCommand = {
  name: 'webhook send',
  summary: 'sign a test webhook with the channel\'s scheme and send it to the edge',
  usage: USAGE,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const flags = parseFlags(args);
    const secretText = io.env[flags.secretEnv];
    if (secretText === undefined || secretText.length === 0) {
      throw new CliUsageError(`environment variable ${flags.secretEnv} is not set (it must hold the hook's signing secret)`);
    }
    const nowMs = Date.now();
    const id = flags.id ?? `msg_${randomUUID().replace(/-/g, '')}`;
    let body: string;
    let eventType: string | undefined;
    if (flags.bodyFile !== undefined) {
      body = readFileSync(resolve(io.cwd, flags.bodyFile), 'utf8');
      eventType = flags.event ?? 'push';
    } else {
      const sample = sampleWebhookBody(flags.channel, nowMs, id);
      body = sample.body;
      eventType = flags.event ?? sample.eventType;
    }
    const bytes = new TextEncoder().encode(body);
    const headers = signWebhookRequest(flags.channel, redact(secretText), bytes, {
      id, timestampSec: Math.floor(nowMs / 1000), ...(eventType !== undefined ? { eventType } : {}),
    });
    if (flags.tenant !== undefined) headers['x-kars-tenant'] = flags.tenant;
    const target = `${flags.url}/api/hooks/${flags.channel}/${flags.hook}`;
    let response: Response;
    try {
      response = await fetch(target, { method: 'POST', headers, body: bytes });
    } catch (e) {
      const code = (e as { cause?: { code?: string } }).cause?.code ?? 'network error';
      throw new KarsError('DEPENDENCY_UNAVAILABLE', `could not reach ${flags.url} (${code})`);
    }
    const text = await response.text();
    io.out(`HTTP ${response.status} ${text}`);
    return response.status >= 200 && response.status < 300 ? 0 : 1;
  },
};

interface SendFlags {
  channel: 'standard' | 'github' | 'slack' | 'teams';
  hook: string;
  secretEnv: string;
  url: string;
  bodyFile?: string;
  event?: string;
  id?: string;
  tenant?: string;
}

function parseFlags(args: readonly string[]): SendFlags {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        channel: { type: 'string' },
        hook: { type: 'string' },
        'secret-env': { type: 'string' },
        url: { type: 'string' },
        'body-file': { type: 'string' },
        event: { type: 'string' },
        id: { type: 'string' },
        tenant: { type: 'string' },
      },
    }));
  } catch (e) {
    throw new CliUsageError(e instanceof Error ? e.message.split('\n')[0] ?? 'bad flags' : 'bad flags');
  }
  if (!isWebhookChannel(values.channel)) throw new CliUsageError('--channel must be one of standard, github, slack, teams');
  if (!isHookId(values.hook)) throw new CliUsageError('--hook must be a hook id (3-63 of A-Z a-z 0-9 -)');
  const secretEnv = values['secret-env'];
  if (secretEnv === undefined || !/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(secretEnv)) {
    throw new CliUsageError('--secret-env must name an environment variable (the secret itself is never a flag)');
  }
  const url = parseBaseUrl(values.url ?? 'http://127.0.0.1:7071');
  return {
    channel: values.channel, hook: values.hook, secretEnv, url,
    ...(values['body-file'] !== undefined ? { bodyFile: values['body-file'] } : {}),
    ...(values.event !== undefined ? { event: values.event } : {}),
    ...(values.id !== undefined ? { id: values.id } : {}),
    ...(values.tenant !== undefined ? { tenant: values.tenant } : {}),
  };
}

/** Base URL without trailing slash; refuses query strings and credentials (T1-I: nothing secret in URLs). */
export function parseBaseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliUsageError('--url is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliUsageError('--url must be http or https');
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new CliUsageError('--url must not carry a query, fragment or credentials');
  }
  return url.toString().replace(/\/+$/, '');
}


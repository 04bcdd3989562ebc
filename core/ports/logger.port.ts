// Logs are structured and allowlisted: adapters drop every field not named here.

export const LOG_FIELDS = [
  'method', 'route', 'path', 'status', 'ms', 'traceparent', 'tenantId', 'hookId', 'channel', 'code',
  'sandboxId', 'deliveryId', 'receiptId', 'chain', 'seq', 'dependency', 'state', 'instanceId', 'orchestration',
  'queue', 'sessionId', 'messageId', 'count', 'reason', 'port', 'url', 'name', 'detail',
  // Entra object id of an operator (who called an operator route; not a secret).
  'principal',
  // JSON of request headers, already passed through core/http/redact-headers (edge log line).
  'headers',
] as const;
export type LogField = (typeof LOG_FIELDS)[number];
export type LogFields = Partial<Record<LogField, string | number | boolean | undefined>>;

export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

const allowed = new Set<string>(LOG_FIELDS);

/** Keeps only allowlisted fields with primitive values. */
export function sanitizeLogFields(fields: LogFields | undefined): LogFields {
  const out: Record<string, string | number | boolean> = {};
  if (!fields) return out;
  for (const [k, v] of Object.entries(fields)) {
    if (!allowed.has(k)) continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  return out as LogFields;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

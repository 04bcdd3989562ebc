// Writes allowlisted structured log lines as JSON; anything not in LOG_FIELDS is dropped before it can leak.
import { sanitizeLogFields, type LogFields, type Logger } from '../../core/ports/logger.port';

export interface JsonLoggerOptions {
  /** Defaults to process.stdout. */
  write?: (line: string) => void;
  component?: string;
}

export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const emit = (level: string, event: string, fields?: LogFields) =>
    write(JSON.stringify({ t: new Date().toISOString(), level, component: options.component, event, ...sanitizeLogFields(fields) }));
  return {
    info: (event, fields) => emit('info', event, fields),
    warn: (event, fields) => emit('warn', event, fields),
    error: (event, fields) => emit('error', event, fields),
  };
}

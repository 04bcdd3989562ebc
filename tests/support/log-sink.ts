// T1-I: the in-memory log sink tests give a logger. Every line it captures passes the suite's canary guard
// (tests/setup/canary-guard.ts), so a secret a component logs fails the file even when no test scans that sink.
// Only a component built with a T1-I mitigation switched off (the OFF arm of an attack test) may log a canary; its
// lines are still captured for the test's own assertions.
import { createJsonLogger } from '../../adapters/logging/json-logger';
import type { LogFields, Logger } from '../../core/ports/logger.port';
import { guardValue } from '../setup/canary-guard';

/** The edge mitigations whose removal makes a secret reach a log line (T1-I rows of EDGE_MITIGATIONS). */
export const LEAK_MITIGATIONS: readonly string[] = ['uri-redaction', 'header-redaction', 'query-credentials'];

export interface LogSink {
  /** Captured lines, in order. */
  readonly lines: string[];
  /** The JSON logger (adapters/logging) writing into `lines`. */
  readonly logger: Logger;
  /** Captures one line written by something other than `logger` (a component with its own `write` option). */
  write(line: string): void;
  /** The mitigations the component writing here runs without (from its `_disable`); set again when it restarts. */
  setDisabled(disabled: readonly string[] | undefined): void;
}

export function captureLogs(options: { component?: string; disabled?: readonly string[]; into?: string[] } = {}): LogSink {
  const lines: string[] = options.into ?? [];
  let leaksExpected = false;
  const where = `log sink ${options.component ?? 'test'}`;
  const write = (line: string): void => {
    if (!leaksExpected) guardValue(where, line);
    lines.push(line);
  };
  const setDisabled = (disabled: readonly string[] | undefined): void => {
    leaksExpected = (disabled ?? []).some((m) => LEAK_MITIGATIONS.includes(m));
  };
  setDisabled(options.disabled);
  return { lines, write, setDisabled, logger: createJsonLogger({ write, ...(options.component === undefined ? {} : { component: options.component }) }) };
}

/** A structured sink (event + fields objects, not JSON lines) for tests asserting on fields; guarded the same way. */
export function captureEvents(component = 'test'): { readonly events: Array<{ level: string; event: string; fields?: LogFields }>; readonly logger: Logger } {
  const events: Array<{ level: string; event: string; fields?: LogFields }> = [];
  const push = (level: string) => (event: string, fields?: LogFields) => {
    guardValue(`log sink ${component}`, { event, fields });
    events.push({ level, event, ...(fields === undefined ? {} : { fields }) });
  };
  return { events, logger: { info: push('info'), warn: push('warn'), error: push('error') } };
}

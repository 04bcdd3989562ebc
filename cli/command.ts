// The shape every `kars` subcommand implements; commands get their I/O and environment injected so tests can run them.
export interface CliIo {
  /** One line to stdout (results). */
  out(line: string): void;
  /** One line to stderr (diagnostics). */
  err(line: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /** Directory relative file arguments are resolved against. */
  cwd: string;
  /** stdout is a terminal: commands may redraw in place (kars rollout status --watch). */
  tty?: boolean;
  /** Asks a yes/no question on the terminal; absent (or resolving false) when no one can answer (no TTY, tests). */
  confirm?(question: string): Promise<boolean>;
}

export interface CliCommand {
  /** Words after `kars`, e.g. `audit verify`. */
  name: string;
  summary: string;
  usage: string;
  /** @returns the process exit code (0 ok, 1 the check failed, 2 usage or configuration error). */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** Thrown for bad flags; main prints the message and the command's usage and exits 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

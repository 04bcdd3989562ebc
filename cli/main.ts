// `kars` operator CLI: dispatches `kars <group> <command> [flags]` through one table, one file per command in cli/commands/.
import { createInterface } from 'node:readline/promises';
import type { CliCommand, CliIo } from './command';
import { CliUsageError } from './command';
import { auditProveCommand } from './commands/audit-prove';
import { auditVerifyCommand } from './commands/audit-verify';
import { deployCommand } from './commands/deploy';
import { webhookCreateCommand, webhookRotateCommand } from './commands/webhook-manage';
import { webhookSendCommand } from './commands/webhook-send';
import { trustShowCommand } from './commands/trust-show';
import { trustSignCommand } from './commands/trust-sign';
import { rolloutStartCommand } from './commands/rollout-start';
import { rolloutStatusCommand } from './commands/rollout-status';
import { rolloutAbortCommand, rolloutApproveCommand } from './commands/rollout-signal';
import { isKarsError } from '../core/errors';

/**
 * The dispatch table. To add a command: a file in cli/commands/ exporting a CliCommand, its import above, one entry
 * here. Static imports (not lazy require) so the same table works compiled, under vitest and under ts-register.
 */
export const COMMANDS: Readonly<Record<string, CliCommand>> = Object.fromEntries([
  auditVerifyCommand, auditProveCommand,
  webhookSendCommand, webhookCreateCommand, webhookRotateCommand,
  deployCommand,
  trustSignCommand, trustShowCommand,
  rolloutStartCommand, rolloutStatusCommand, rolloutApproveCommand, rolloutAbortCommand,
].map((c) => [c.name, c]));

/** @returns the exit code. Never throws: unexpected errors print their code (never a stack with values) and exit 1. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    printHelp(io.out);
    return 0;
  }
  const key = [argv.slice(0, 2).join(' '), argv.slice(0, 1).join(' ')].find((k) => Object.hasOwn(COMMANDS, k));
  if (!key) {
    io.err(`kars: unknown command "${argv.slice(0, 2).filter((a) => /^[a-z-]{1,32}$/.test(a)).join(' ')}"`);
    printHelp(io.err);
    return 2;
  }
  const command = COMMANDS[key] as CliCommand;
  const rest = argv.slice(key.split(' ').length);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.usage);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof CliUsageError) {
      io.err(`kars ${key}: ${e.message}`);
      io.err(command.usage);
      return 2;
    }
    if (isKarsError(e)) {
      io.err(`kars ${key}: ${e.code}: ${e.message}`);
      return e.code === 'CONFIG_INVALID' || e.code === 'INPUT_INVALID' ? 2 : 1;
    }
    io.err(`kars ${key}: unexpected ${e instanceof Error ? e.name : 'error'}`);
    return 1;
  }
}

function printHelp(print: (line: string) => void): void {
  print('usage: kars <command> [flags]   (kars <command> --help for its flags)');
  for (const [name, command] of Object.entries(COMMANDS)) print(`  ${name.padEnd(24)} ${command.summary}`);
}

async function askOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** Process entry used by bin/kars.js. */
export function main(): void {
  const io: CliIo = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
    cwd: process.cwd(),
    tty: process.stdout.isTTY === true,
    ...(process.stdin.isTTY ? { confirm: askOnTerminal } : {}),
  };
  runCli(process.argv.slice(2), io).then(
    (code) => { process.exitCode = code; },
    () => { process.exitCode = 1; },
  );
}

if (require.main === module) main();

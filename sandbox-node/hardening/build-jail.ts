// T2-E: builds the kars-jail launcher from source with the machine's gcc (binaries are never committed) and writes
// the seccomp policy it loads, compiled from kars-strict.json so kubelet and launcher enforce the same rules.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KarsError } from '../../core/errors';
import { compileJailPolicy, loadKarsStrictProfile, type SeccompProfile } from './seccomp-profile';

/** The C source: beside this module in the source tree; from dist/, back in the source tree (tsc copies no .c). */
export const KARS_JAIL_SOURCE_PATH = [join(__dirname, 'jail', 'kars-jail.c'),
  join(__dirname, '..', '..', '..', 'sandbox-node', 'hardening', 'jail', 'kars-jail.c')].find((p) => existsSync(p)) ??
  join(__dirname, 'jail', 'kars-jail.c');

/** Hardened-binary flags; libseccomp is linked statically so the agent image needs nothing but libc. */
export const KARS_JAIL_CFLAGS: readonly string[] = Object.freeze([
  '-O2', '-Wall', '-Wextra', '-D_FORTIFY_SOURCE=2', '-fstack-protector-strong', '-fPIE', '-pie',
  '-Wl,-z,relro,-z,now',
]);

export interface BuildJailOptions {
  /** Compile in `--unsafe-skip <layer>` so tests can remove one layer at a time. Never for images. */
  testHooks?: boolean;
  /** Compiler command; default `gcc`. */
  cc?: string;
  /** Source file; default the committed kars-jail.c. */
  sourcePath?: string;
}

/**
 * Compiles kars-jail to `outPath` (mode 0755).
 * @throws KarsError JAIL_BUILD_FAILED with the compiler's first error lines (no secrets are involved).
 */
export function buildJail(outPath: string, options: BuildJailOptions = {}): void {
  const args = [...KARS_JAIL_CFLAGS, ...(options.testHooks ? ['-DKARS_JAIL_TEST_HOOKS'] : []), '-o', outPath,
    options.sourcePath ?? KARS_JAIL_SOURCE_PATH, '-l:libseccomp.a'];
  compileC(options.cc ?? 'gcc', args);
  chmodSync(outPath, 0o755);
}

/** Compiles any small C helper (tests use it for their probes). @throws KarsError JAIL_BUILD_FAILED */
export function compileC(cc: string, args: readonly string[]): void {
  const r = spawnSync(cc, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const detail = r.error ? r.error.message : r.stderr.split('\n').slice(0, 8).join('\n');
    throw new KarsError('JAIL_BUILD_FAILED', `${cc} failed (needs gcc, libc6-dev, libseccomp-dev): ${detail}`);
  }
}

/** Writes the compiled "kars-seccomp 1" policy kars-jail reads with `--seccomp`. */
export function writeJailPolicy(outPath: string, profile: SeccompProfile = loadKarsStrictProfile()): void {
  writeFileSync(outPath, compileJailPolicy(profile), { mode: 0o644 });
}

// `node dist/sandbox-node/hardening/build-jail.js <out-dir>` in the agent image build.
if (require.main === module) {
  const out = process.argv[2] ?? '.';
  buildJail(join(out, 'kars-jail'));
  writeJailPolicy(join(out, 'kars-strict.policy'));
}

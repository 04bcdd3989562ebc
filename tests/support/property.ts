// How every property test runs. CI and `npm test` use one fixed seed, so a run cannot fail by chance: a property
// fails there only when the code (or the test) changed. Finding new counterexamples is the job of `npm run fuzz`
// (scripts/fuzz.mjs): random seeds and many times the cases. Either way a failure names the seed and path that replay
// it. tests/architecture/property-seeds.test.ts checks that no test calls fast-check's runners directly.
import fc from 'fast-check';
import { expect } from 'vitest';

/** The seed of every property in a normal run. Changing it is a deliberate act (run `npm run fuzz` first). */
export const FIXED_SEED = 0x6b617273;

/** Case count multiplier of a fuzz run when `KARS_FUZZ` is set without a number. */
export const DEFAULT_FUZZ_FACTOR = 50;

export interface PropertyOptions {
  /** Cases in a normal run (fast-check's default is 100); a fuzz run multiplies it. */
  readonly numRuns?: number;
}

export type PropertyMode =
  | { readonly kind: 'fixed'; readonly seed: number; readonly numRuns: number }
  | { readonly kind: 'replay'; readonly seed: number; readonly path: string | undefined; readonly numRuns: number }
  | { readonly kind: 'fuzz'; readonly seed: number; readonly numRuns: number };

/**
 * The run's parameters from the environment: `KARS_PROPERTY_SEED` (+ `KARS_PROPERTY_PATH`) replays a failure,
 * `KARS_FUZZ=<factor>` fuzzes with a fresh random seed per property, anything else is the fixed seed.
 * @throws {RangeError} when a variable is set to something unusable (a typo must not silently run the fixed seed)
 */
export function propertyMode(options: PropertyOptions = {}, env: NodeJS.ProcessEnv = process.env): PropertyMode {
  const numRuns = options.numRuns ?? 100;
  if (env.KARS_PROPERTY_SEED !== undefined) {
    const seed = Number(env.KARS_PROPERTY_SEED);
    if (!Number.isSafeInteger(seed)) throw new RangeError('KARS_PROPERTY_SEED expected an integer');
    return { kind: 'replay', seed, path: env.KARS_PROPERTY_PATH || undefined, numRuns };
  }
  if (env.KARS_FUZZ !== undefined && env.KARS_FUZZ !== '' && env.KARS_FUZZ !== '0') {
    const factor = env.KARS_FUZZ === '1' ? DEFAULT_FUZZ_FACTOR : Number(env.KARS_FUZZ);
    if (!Number.isSafeInteger(factor) || factor < 1) throw new RangeError('KARS_FUZZ expected a positive integer factor');
    // fast-check's own default seed is Date.now() ^ Math.random(); spell it out so the report can print it.
    return { kind: 'fuzz', seed: (Date.now() ^ Math.floor(Math.random() * 0x100000000)) | 0, numRuns: numRuns * factor };
  }
  return { kind: 'fixed', seed: FIXED_SEED, numRuns };
}

function parameters(mode: PropertyMode): fc.Parameters<unknown> {
  const base = { seed: mode.seed, numRuns: mode.numRuns };
  return mode.kind === 'replay' && mode.path !== undefined ? { ...base, path: mode.path, endOnFailure: true } : base;
}

/** The failure message: fast-check's report (seed, path, counterexample) plus the command that replays it. */
function failure(details: fc.RunDetails<unknown>, mode: PropertyMode): Error {
  const { testPath, currentTestName } = expect.getState();
  const file = testPath ? testPath.replace(`${process.cwd()}/`, '') : '<file>';
  const replay =
    `replay (${mode.kind} run): KARS_PROPERTY_SEED=${details.seed} KARS_PROPERTY_PATH=${details.counterexamplePath ?? ''} ` +
    `npx vitest run ${file} -t ${JSON.stringify(currentTestName?.split(' > ').pop() ?? '')}`;
  return new Error(`${fc.defaultReportMessage(details) ?? 'property failed'}\n${replay}`, { cause: details.errorInstance });
}

/**
 * fast-check's `assert` with the project's seed policy; use it instead of `fc.assert` / `fc.check`.
 * @throws {Error} naming seed, path and counterexample when the property fails
 */
export function assertProperty<Ts>(property: fc.IProperty<Ts>, options?: PropertyOptions): void;
export function assertProperty<Ts>(property: fc.IAsyncProperty<Ts>, options?: PropertyOptions): Promise<void>;
export function assertProperty<Ts>(property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>, options?: PropertyOptions): void | Promise<void> {
  const mode = propertyMode(options);
  const params = parameters(mode) as fc.Parameters<Ts>;
  if (property.isAsync()) {
    return (fc.check(property as fc.IAsyncProperty<Ts>, params) as Promise<fc.RunDetails<Ts>>).then((details) => {
      if (details.failed) throw failure(details as fc.RunDetails<unknown>, mode);
    });
  }
  const details = fc.check(property as fc.IProperty<Ts>, params) as fc.RunDetails<Ts>;
  if (details.failed) throw failure(details as fc.RunDetails<unknown>, mode);
}

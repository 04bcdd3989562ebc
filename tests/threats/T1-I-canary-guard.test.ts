// The suite-wide canary guard catches a planted secret printed to any log channel of a test file.
import { describe, expect, it } from 'vitest';
import { _canaryGuardHits, _resetCanaryGuard } from '../setup/canary-guard';

describe('T1-I suite-wide canary guard', () => {
  it('flags a canary written to stdout, stderr or the console, and nothing else', () => {
    _resetCanaryGuard();
    process.stdout.write('{"event":"ok","detail":"no secret here"}\n');
    expect(_canaryGuardHits()).toEqual([]);
    const canary = 'kcanary' + '0123456789ab';
    process.stdout.write(`{"event":"leak","detail":"${canary}"}\n`);
    process.stderr.write(Buffer.from(`leak ${canary}\n`));
    console.log({ header: canary });
    expect(_canaryGuardHits()).toEqual([`stdout: ${canary}`, `stderr: ${canary}`, `console.log: ${canary}`]);
    _resetCanaryGuard();
  });
});

// How a test reads a call's outcome: the KarsError code it failed with, or 'resolved'. One helper for every test file.
import { isKarsError, type KarsErrorCode } from '../../core/errors';

export type SettledCode = KarsErrorCode | 'resolved' | `not a KarsError: ${string}`;

/**
 * Awaits `p` and names how it settled. Anything thrown that is not a KarsError is named by its error name only (a
 * message may carry request data, and a failed assertion prints it).
 */
export async function settledCode(p: Promise<unknown>): Promise<SettledCode> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return isKarsError(e) ? e.code : `not a KarsError: ${e instanceof Error ? e.name : typeof e}`;
  }
}

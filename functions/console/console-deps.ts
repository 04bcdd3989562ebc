// What the console's data routes read: the receipt chains (as `kars audit verify` and `kars audit prove` read them)
// and the checkpoint keys they are verified against.
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../../core/ports/clock.port';
import type { Logger } from '../../core/ports/logger.port';
import type { ReceiptStore } from '../../core/ports/receipt-store.port';

export interface ConsoleDeps {
  store: ReceiptStore;
  /** Every chain to show: the registered ones and those of the layout. */
  chains(): Promise<string[]>;
  /** The trusted checkpoint keys by key id (the public half of the signing key). */
  trustedKeys(): Promise<ReadonlyMap<string, KeyObject>>;
  clock: Clock;
  logger: Logger;
}

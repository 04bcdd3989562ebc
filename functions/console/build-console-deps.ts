// Builds the console's data dependencies from the app's services: the chain list is the registered chains plus the
// layout's (as `kars audit verify` walks them).
import type { KeyObject } from 'node:crypto';
import { chainNames, type ChainLayout } from '../../core/audit/chain-select';
import { systemClock } from '../../core/ports/clock.port';
import type { Logger } from '../../core/ports/logger.port';
import type { ReceiptStore } from '../../core/ports/receipt-store.port';
import type { ConsoleDeps } from './console-deps';

export interface ConsoleDepsSources {
  store: ReceiptStore;
  layout: ChainLayout;
  trustedKeys(): Promise<ReadonlyMap<string, KeyObject>>;
  logger: Logger;
}

export function buildConsoleDeps(sources: ConsoleDepsSources): ConsoleDeps {
  return {
    store: sources.store,
    async chains() {
      const registered = await sources.store.listChains();
      return [...new Set([...registered, ...chainNames(sources.layout)])].sort();
    },
    trustedKeys: sources.trustedKeys,
    clock: systemClock,
    logger: sources.logger,
  };
}

// The operator console's routes for the single route table: the page and its assets, and its read-only data. State
// changes (approve or abort a rollout) and the trust graph go through their own existing routes.
import type { RouteDef } from '../route-def';
import { consoleChainHeads, consoleReceipt, consoleVerifyChain } from './console-audit';
import type { ConsoleAsset } from './console-assets';
import { consoleDataRoute } from './console-data-route';
import type { ConsoleDeps } from './console-deps';
import { consoleEdgeTraffic } from './console-edge-traffic';
import { consolePageRoute } from './console-page-route';

export function createConsoleRoutes(getDeps: () => Promise<ConsoleDeps>, asset: (name: string) => ConsoleAsset | undefined): RouteDef[] {
  return [
    consolePageRoute(asset),
    consoleDataRoute('consoleEdge', 'console/data/edge', getDeps, consoleEdgeTraffic),
    consoleDataRoute('consoleChains', 'console/data/audit/chains', getDeps, consoleChainHeads),
    consoleDataRoute('consoleVerify', 'console/data/audit/verify', getDeps, consoleVerifyChain),
    consoleDataRoute('consoleReceipt', 'console/data/audit/receipts/{receiptId}', getDeps, consoleReceipt),
  ];
}

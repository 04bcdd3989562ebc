// @kubernetes/client-node 1.x ships as ES modules only; this CommonJS build reaches it through a dynamic import
// (kept as import() by module Node16), loaded once on first use.
import { memoizePromise } from '../../core/async/memoize-promise';

export type ClientNode = typeof import('@kubernetes/client-node', { with: { 'resolution-mode': 'import' } });

export const loadClientNode: () => Promise<ClientNode> = memoizePromise(() => import('@kubernetes/client-node'));

// Spreads receipts over N independent chains so appends never funnel through one global head (ARCHITECTURE §6).
import { createHash } from 'node:crypto';
import { KarsError } from '../errors';
import { assertChainName } from './receipt';

export interface ChainLayout {
  /** Chain names are `<prefix>-<index, 2+ digits>`. */
  prefix: string;
  /** 1..1000. Raising it later is safe: old chains stay verifiable, new receipts spread wider. */
  count: number;
}

export const DEFAULT_CHAIN_LAYOUT: ChainLayout = { prefix: 'audit', count: 4 };

/** @throws KarsError CONFIG_INVALID */
export function assertChainLayout(layout: ChainLayout): void {
  if (!Number.isSafeInteger(layout.count) || layout.count < 1 || layout.count > 1000) {
    throw new KarsError('CONFIG_INVALID', 'audit chain count must be an integer in 1..1000');
  }
  try {
    assertChainName(`${layout.prefix}-00`);
  } catch {
    throw new KarsError('CONFIG_INVALID', 'audit chain prefix must be lowercase letters, digits, _ or -');
  }
}

export function chainName(layout: ChainLayout, index: number): string {
  return `${layout.prefix}-${String(index).padStart(2, '0')}`;
}

/** Every chain the layout can produce (the verifier walks these even if the registry lost one). */
export function chainNames(layout: ChainLayout): string[] {
  return Array.from({ length: layout.count }, (_, i) => chainName(layout, i));
}

/** Stable subject → chain mapping, identical in every process and release (the hash is fixed, not Node's). */
export function chainForSubject(layout: ChainLayout, subject: string): string {
  const digest = createHash('sha256').update('kars.audit.chain.v1\n').update(subject, 'utf8').digest();
  return chainName(layout, digest.readUInt32BE(0) % layout.count);
}

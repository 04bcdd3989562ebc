// Tier names of a trust score (AGT "AgentMesh Identity and Trust 1.0" tiers), for people reading scores.
export type TrustTier = 'verified_partner' | 'trusted' | 'standard' | 'probationary' | 'untrusted';

export function trustTier(score: number): TrustTier {
  if (score >= 900) return 'verified_partner';
  if (score >= 700) return 'trusted';
  if (score >= 500) return 'standard';
  if (score >= 300) return 'probationary';
  return 'untrusted';
}

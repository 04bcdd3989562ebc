// Types of scripts/review-cadence.cjs for the tests that import it.
export declare const SECURITY_DEPENDENCIES: readonly string[];
export declare const REVIEW_MAX_AGE_DAYS: number;
export declare function lastReviewedMs(markdown: string): number | undefined;
export declare function reviewAgeWarning(markdown: string, nowMs: number, maxAgeDays?: number): string | undefined;
export interface DependencyReview { pkg: string; version: string; date: string; note: string }
export declare function dependencyReviews(markdown: string): DependencyReview[];
export declare function installedVersions(lock: unknown, names?: readonly string[]): Record<string, string | undefined>;
export declare function unreviewedDependencies(markdown: string, lock: unknown, names?: readonly string[]): { pkg: string; installed: string | null }[];

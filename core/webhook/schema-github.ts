// zod schemas for the GitHub events the edge forwards (T1-T): the fields the router relies on, typed and bounded.
// Loose objects: GitHub adds payload fields without notice, and a strict schema would turn that into an outage.
import { z } from 'zod';

const gitSha = z.string().regex(/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/); // SHA-1, or SHA-256 object format
const action = z.string().regex(/^[a-z_]{1,64}$/);
const text = (max: number) => z.string().max(max);

export const githubUserSchema = z.looseObject({
  login: z.string().min(1).max(100),
  id: z.number().int().nonnegative(),
});

export const githubRepositorySchema = z.looseObject({
  id: z.number().int().nonnegative(),
  full_name: z.string().regex(/^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/),
});

export const githubPingSchema = z.looseObject({
  zen: text(1024),
  hook_id: z.number().int().nonnegative(),
  hook: z.looseObject({ id: z.number().int().nonnegative(), type: text(64) }).optional(),
  repository: githubRepositorySchema.optional(),
  sender: githubUserSchema.optional(),
});

const githubCommitSchema = z.looseObject({
  id: gitSha,
  message: text(65_536),
});

export const githubPushSchema = z.looseObject({
  ref: z.string().min(1).max(1024),
  before: gitSha,
  after: gitSha,
  repository: githubRepositorySchema,
  pusher: z.looseObject({ name: z.string().min(1).max(256) }),
  sender: githubUserSchema,
  commits: z.array(githubCommitSchema).max(2048),
  head_commit: githubCommitSchema.nullable().optional(),
});

const githubIssueSchema = z.looseObject({
  id: z.number().int().nonnegative(),
  number: z.number().int().positive(),
  title: text(1024),
  user: githubUserSchema,
  body: text(262_144).nullable().optional(),
});

export const githubIssuesSchema = z.looseObject({
  action,
  issue: githubIssueSchema,
  repository: githubRepositorySchema,
  sender: githubUserSchema,
});

export const githubIssueCommentSchema = z.looseObject({
  action,
  issue: z.looseObject({ id: z.number().int().nonnegative(), number: z.number().int().positive() }),
  comment: z.looseObject({ id: z.number().int().nonnegative(), body: text(262_144), user: githubUserSchema }),
  repository: githubRepositorySchema,
  sender: githubUserSchema,
});

const githubRefSchema = z.looseObject({ ref: z.string().min(1).max(1024), sha: gitSha });

export const githubPullRequestSchema = z.looseObject({
  action,
  number: z.number().int().positive(),
  pull_request: z.looseObject({
    id: z.number().int().nonnegative(),
    number: z.number().int().positive(),
    title: text(1024),
    user: githubUserSchema,
    head: githubRefSchema,
    base: githubRefSchema,
  }),
  repository: githubRepositorySchema,
  sender: githubUserSchema,
});

/** X-GitHub-Event name → schema. Events not listed are WEBHOOK_EVENT_UNSUPPORTED. */
export const GITHUB_EVENT_SCHEMAS = {
  ping: githubPingSchema,
  push: githubPushSchema,
  issues: githubIssuesSchema,
  issue_comment: githubIssueCommentSchema,
  pull_request: githubPullRequestSchema,
} as const;

export type GithubEventType = keyof typeof GITHUB_EVENT_SCHEMAS;
export type GithubPing = z.infer<typeof githubPingSchema>;
export type GithubPush = z.infer<typeof githubPushSchema>;
export type GithubIssues = z.infer<typeof githubIssuesSchema>;
export type GithubIssueComment = z.infer<typeof githubIssueCommentSchema>;
export type GithubPullRequest = z.infer<typeof githubPullRequestSchema>;

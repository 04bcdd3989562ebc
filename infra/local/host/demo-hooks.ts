// DEV-ONLY demo hook registrations for local mode (`npm start`), so a newcomer can send a signed webhook at once
// (README, `npx kars webhook send`). Their secrets are published: never seed them outside local mode.
import { isKarsError } from '../../../core/errors';
import type { CreateHookInput, HookRegistry } from '../../../core/ports/hook-registry.port';
import type { Logger } from '../../../core/ports/logger.port';
import { redact } from '../../../core/secrets/redacted';

export const DEMO_TENANT = 'demo-tenant';
export const DEMO_SANDBOX = 'demo-sandbox';

/** DEV-ONLY published demo secrets, by hook id. The Standard Webhooks key is `DEV-ONLY-kars-demo-standard-key!`. */
export const DEMO_HOOK_SECRETS = {
  'hk-demo-standard': 'whsec_REVWLU9OTFkta2Fycy1kZW1vLXN0YW5kYXJkLWtleSE=',
  'hk-demo-github': 'DEV-ONLY-kars-demo-github-secret',
  'hk-demo-slack': 'DEV-ONLY-kars-demo-slack-signing-secret',
  'hk-demo-teams': 'REVWLU9OTFkta2Fycy1kZW1vLXRlYW1zLXRva2VuISE=',
} as const;

/** Hex of the demo Standard Webhooks key, for the README's openssl + curl example. */
export const DEMO_STANDARD_KEY_HEX = '4445562d4f4e4c592d6b6172732d64656d6f2d7374616e646172642d6b657921';

export const DEMO_HOOKS: readonly Omit<CreateHookInput, 'secret'>[] = [
  { hookId: 'hk-demo-standard', tenantId: DEMO_TENANT, sandboxId: DEMO_SANDBOX, channel: 'standard', allowedEventTypes: ['kars.demo'] },
  { hookId: 'hk-demo-github', tenantId: DEMO_TENANT, sandboxId: DEMO_SANDBOX, channel: 'github', allowedEventTypes: ['push', 'issues', 'issue_comment', 'pull_request'] },
  { hookId: 'hk-demo-slack', tenantId: DEMO_TENANT, sandboxId: DEMO_SANDBOX, channel: 'slack', allowedEventTypes: ['message', 'app_mention'] },
  { hookId: 'hk-demo-teams', tenantId: DEMO_TENANT, sandboxId: DEMO_SANDBOX, channel: 'teams', allowedEventTypes: ['message'] },
];

export interface SeedDemoHooksOptions {
  /** Must be 'local': the demo secrets are public. */
  mode: 'local' | 'azure';
  logger?: Logger;
}

/**
 * Creates the demo hooks unless they exist (idempotent across restarts).
 * @returns the hook ids created now
 * @throws {Error} in azure mode (a programming error: the composition root must not call it there)
 */
export async function seedDemoHooks(registry: HookRegistry, options: SeedDemoHooksOptions): Promise<string[]> {
  if (options.mode !== 'local') throw new Error('demo hooks are DEV-ONLY and are never seeded in azure mode');
  const created: string[] = [];
  for (const hook of DEMO_HOOKS) {
    const hookId = hook.hookId as keyof typeof DEMO_HOOK_SECRETS;
    try {
      await registry.create({ ...hook, secret: redact(DEMO_HOOK_SECRETS[hookId]) });
      created.push(hookId);
    } catch (e) {
      if (!(isKarsError(e) && e.code === 'STORE_CONFLICT')) throw e;
    }
  }
  options.logger?.info('hooks.demo_seeded', { count: created.length });
  return created;
}

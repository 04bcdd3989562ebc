// One call site registers an orchestrator or activity with durable-functions (so the real Functions host sees it)
// AND records it for the local Durable runner, so the two cannot drift apart.
import * as df from 'durable-functions';
import type { InvocationContext } from '@azure/functions';

export type OrchestratorFunction = df.OrchestrationHandler;
/** Activity handler as the host calls it: (input, context) → result (JSON-serialisable). */
export type ActivityFunction = (input: unknown, context: InvocationContext) => unknown;

export class DurableRegistry {
  readonly #orchestrations = new Map<string, OrchestratorFunction>();
  readonly #activities = new Map<string, ActivityFunction>();

  addOrchestration(name: string, handler: OrchestratorFunction): void {
    this.#orchestrations.set(name, handler);
  }

  addActivity(name: string, handler: ActivityFunction): void {
    this.#activities.set(name, handler);
  }

  getOrchestration(name: string): OrchestratorFunction | undefined {
    return this.#orchestrations.get(name);
  }

  getActivity(name: string): ActivityFunction | undefined {
    return this.#activities.get(name);
  }

  orchestrationNames(): string[] {
    return [...this.#orchestrations.keys()];
  }

  activityNames(): string[] {
    return [...this.#activities.keys()];
  }
}

/** The process-wide registry the composition root fills and the local runner reads by default. */
export const defaultDurableRegistry = new DurableRegistry();

export interface RegisterDurableOptions {
  /** Where the local runner finds the function. Default: defaultDurableRegistry. */
  registry?: DurableRegistry;
  /** Also register with durable-functions (the Azure host). Default true. */
  azure?: boolean;
}

// The Functions host refuses a second registration under one name; registries may be refilled (tests), the host not.
const registeredWithHost = new Set<string>();

/** Registers a generator orchestrator under `name`. */
export function registerOrchestration(name: string, handler: OrchestratorFunction, options: RegisterDurableOptions = {}): void {
  (options.registry ?? defaultDurableRegistry).addOrchestration(name, handler);
  if ((options.azure ?? true) && !registeredWithHost.has(name)) {
    registeredWithHost.add(name);
    df.app.orchestration(name, handler);
  }
}

/** Registers an activity under `name`. */
export function registerActivity(name: string, handler: ActivityFunction, options: RegisterDurableOptions = {}): void {
  (options.registry ?? defaultDurableRegistry).addActivity(name, handler);
  if ((options.azure ?? true) && !registeredWithHost.has(name)) {
    registeredWithHost.add(name);
    df.app.activity(name, { handler: (input: unknown, context: InvocationContext) => handler(input, context) });
  }
}

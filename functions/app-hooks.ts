// App-level terminate hooks (T1-D, T1-R): what must run before a Function instance goes away (the pre-auth guard's
// pending summary receipts). One list, run by Azure's `app.hook.appTerminate` and by the local host's shutdown alike,
// so both environments take the same code path.
import type { Logger } from '../core/ports/logger.port';

export type TerminateHandler = () => Promise<void> | void;

/** The part of `@azure/functions`' `app.hook` this module needs (its `appTerminate` registers a graceful-shutdown hook). */
export interface AzureHookApi {
  appTerminate(handler: () => Promise<void> | void): unknown;
}

export interface RunTerminateOptions {
  /** Where a failing handler is reported (by name only). */
  logger?: Logger;
}

export interface AppHooks {
  /**
   * Registers a handler to run once at shutdown, after the handlers registered before it.
   * @returns a function that unregisters it
   */
  onTerminate(name: string, handler: TerminateHandler): () => void;
  /**
   * Runs every registered handler in registration order, each awaited; a failing one is logged and the rest still run.
   * Runs once per process: a second call (SIGTERM after SIGINT) resolves when the first run has.
   */
  runTerminate(options?: RunTerminateOptions): Promise<void>;
}

export function createAppHooks(): AppHooks {
  const handlers: Array<{ name: string; handler: TerminateHandler }> = [];
  let run: Promise<void> | undefined;
  return {
    onTerminate(name, handler) {
      const entry = { name, handler };
      handlers.push(entry);
      return () => {
        const i = handlers.indexOf(entry);
        if (i >= 0) handlers.splice(i, 1);
      };
    },
    runTerminate(options = {}) {
      run ??= (async () => {
        for (const { name, handler } of [...handlers]) {
          try {
            await handler();
          } catch {
            // The error text may carry request data; the handler's name says where to look.
            options.logger?.error('app.terminate_failed', { name, code: 'INTERNAL' });
          }
        }
      })();
      return run;
    },
  };
}

/** The Function app's hooks: registered by the route table (functions/routes.ts), run at shutdown by Azure or the local host. */
export const appHooks: AppHooks = createAppHooks();

/**
 * Has the Azure Functions host run `hooks` at graceful shutdown (functions/index.ts passes `app.hook`). The host gives
 * terminate hooks a limited grace period and skips them on a forced kill.
 */
export function registerAzureTerminateHooks(hookApi: AzureHookApi, hooks: AppHooks = appHooks, options: RunTerminateOptions = {}): void {
  hookApi.appTerminate(() => hooks.runTerminate(options));
}

// Registers every non-HTTP function (Durable orchestrators and activities) once, for the Azure host and the local
// runner alike. Dependencies are resolved lazily because the host loads the app before any invocation.
import { registerRolloutFunctions } from './rollouts/register-rollout-functions';
import { getServices } from './services';

let registered = false;

export function registerAppFunctions(): void {
  if (registered) return;
  registered = true;
  registerRolloutFunctions({ getSandboxDriver: async () => (await getServices()).sandboxDriver() });
}

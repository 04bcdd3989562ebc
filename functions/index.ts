// Entry point the Azure Functions host loads (package.json "main"): registers every route of the table, every Durable
// orchestrator and activity, every Service Bus queue trigger, and the app's terminate hooks (graceful shutdown of an instance).
import { app } from '@azure/functions';
import { createJsonLogger } from '../adapters/logging/json-logger';
import { appHooks, registerAzureTerminateHooks } from './app-hooks';
import { routes } from './routes';
import { registerAppFunctions } from './register-app-functions';
import { azureHostAuthLevel, entraOperatorAuthConfigured } from './http/guard-routes';
import { queueTriggers } from './queue-triggers';

// Streamed request bodies let the edge cap a body while reading it, before it is buffered.
app.setup({ enableHttpStream: true });

// Operator routes are anonymous to the Functions host: App Service Authentication (Entra ID) stands in front and the app
// checks the principal's operator role itself (functions/http/guard-routes.ts); a host key grants nothing. Without Entra
// settings (local mode under `func start`) they keep the host key.
const entraOperatorAuth = entraOperatorAuthConfigured(process.env);
for (const r of routes) {
  app.http(r.name, { methods: r.methods, route: r.route, authLevel: azureHostAuthLevel(r, entraOperatorAuth), handler: r.handler, extraInputs: r.extraInputs });
}
for (const q of queueTriggers) {
  app.serviceBusQueue(q.name, { connection: q.connection, queueName: q.queueName, isSessionsEnabled: q.isSessionsEnabled, handler: q.handler });
}
registerAppFunctions();
// The hooks the route table registered (the edge's pending pre-auth summaries) run when the host stops this instance.
registerAzureTerminateHooks(app.hook, appHooks, { logger: createJsonLogger({ component: 'functions' }) });

// Entry point the Azure Functions host loads (package.json "main"): registers every route of the table and every
// Durable orchestrator and activity.
import { app } from '@azure/functions';
import { routes } from './routes';
import { registerAppFunctions } from './register-app-functions';

// Streamed request bodies let the edge cap a body while reading it, before it is buffered.
app.setup({ enableHttpStream: true });

for (const r of routes) {
  app.http(r.name, { methods: r.methods, route: r.route, authLevel: r.authLevel, handler: r.handler, extraInputs: r.extraInputs });
}
registerAppFunctions();

// Entry point the Azure Functions host loads (package.json "main"): registers every route of the table.
import { app } from '@azure/functions';
import { routes } from './routes';

// Streamed request bodies let the edge cap a body while reading it, before it is buffered.
app.setup({ enableHttpStream: true });

for (const r of routes) {
  app.http(r.name, { methods: r.methods, route: r.route, authLevel: r.authLevel, handler: r.handler, extraInputs: r.extraInputs });
}

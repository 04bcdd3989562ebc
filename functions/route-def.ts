// One row of the route table: Azure registration (functions/index.ts) and the local host both read these.
import type { FunctionInput, HttpHandler, HttpMethod } from '@azure/functions';

export type AuthLevel = 'anonymous' | 'function' | 'admin';

export interface RouteDef {
  /** Azure function name; unique. */
  name: string;
  methods: HttpMethod[];
  /** Route template without the `api/` prefix, Azure syntax: `hooks/{channel}/{hookId}`, `{id?}`, `{n:int}`. */
  route: string;
  authLevel: AuthLevel;
  handler: HttpHandler;
  /**
   * The handler refuses a credential in the query string itself (the webhook edge, which receipts the refusal), so the
   * route guard (functions/http/guard-routes.ts) leaves that check to it.
   */
  refusesQueryCredentials?: true;
  /**
   * Anonymous to the app (a browser loads it without a credential header: the console page) yet, in Azure, behind App
   * Service Authentication like the operator routes (bicep: not in excludedPaths; tests/bicep/deployment-policy.ts).
   */
  behindSignIn?: true;
  /** Extra input bindings (e.g. the Durable client) for the Azure host. */
  extraInputs?: FunctionInput[];
}

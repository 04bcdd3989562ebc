// Helpers the Bicep policy modules share (tests/bicep/bicep-policy.ts, deployment-policy.ts, registry-policy.ts): the
// policy context, module path resolution, role assignments and object collection. Kept apart so the policy modules
// import them without importing each other (no import cycle).
import { posix } from 'node:path';
import { deref, descendants, evaluate, literal, NOT_LITERAL, paramScope, prop, stringLiteral } from './bicep-model';
import type { BicepFile, ModuleDecl, ResourceDecl, SyntaxNode } from './bicep-model';

export interface PolicyContext {
  /** KARS_* settings functions/config.ts reads in azure mode: the Function app must carry exactly these. */
  requiredKarsSettings: readonly string[];
  /** Settings that must never be deployed (local-only, or a credential in a value). */
  forbiddenSettings: readonly string[];
  /** Session queue the edge writes to (adapters/edge/bus-edge-queue.ts). */
  edgeQueueName: string;
  /** Cosmos containers the app opens (id and defaultTtlSec from the code's CosmosContainerSpec constants). */
  containers: ReadonlyArray<{ id: string; defaultTtlSec?: number }>;
  /** Router service account (infra/k8s/sandbox/service-account.yaml). */
  routerServiceAccount: string;
  /** nodeSelector label and toleration of the sandbox pods (infra/k8s/sandbox/deployment.yaml). */
  sandboxNodeLabel: readonly [string, string];
  sandboxTaint: string;
  /** host.json extensions.durableTask.hubName. */
  durableTaskHub: string;
  /** Route templates of functions/routes.ts (without `api/`): operator routes need Entra ID, anonymous ones must not. */
  operatorRoutes: readonly string[];
  anonymousRoutes: readonly string[];
}

export function resolveModulePath(file: BicepFile, m: ModuleDecl): string {
  return posix.normalize(posix.join(posix.dirname(file.path), m.path));
}

export function describe(node: SyntaxNode | undefined): string {
  if (!node) return 'nothing';
  const l = literal(node);
  return l === NOT_LITERAL ? `expression \`${node.text.slice(0, 60)}\`` : JSON.stringify(l);
}

/** ISO 8601 day/time duration (P1D, PT1M, PT30S, P1DT2H) in seconds; undefined when malformed. */
export function isoSeconds(s: string): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(s);
  if (!m || s === 'P' || s.endsWith('T')) return undefined;
  return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
}

/**
 * Role assignments of a file with the role GUID each grants (built-in via subscriptionResourceId or a GUID var); a loop
 * over role ids yields one entry per id.
 */
export function roleAssignmentsIn(file: BicepFile): Array<{ r: ResourceDecl; roleId: string | undefined }> {
  return file.resources
    .filter((r) => r.type === 'Microsoft.Authorization/roleAssignments' && !r.existing)
    .flatMap((r) => {
      const def = prop(r.body, 'properties.roleDefinitionId', file);
      const loopValues = r.loop ? evaluate(r.loop.iterable, paramScope(file), file) : undefined;
      if (r.loop && Array.isArray(loopValues) && def && descendants(def).some((n) => n.type === 'identifier' && n.text === r.loop!.variable)) {
        return loopValues.map((value) => ({ r, roleId: roleIdOf(def, file, new Map([[r.loop!.variable, value]])) }));
      }
      return [{ r, roleId: roleIdOf(def, file) }];
    });
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The role GUID a roleDefinitionId expression names (a literal, a GUID variable, or either inside a call/interpolation). */
export function roleIdOf(def: SyntaxNode | undefined, file: BicepFile, scope: ReadonlyMap<string, unknown> = new Map()): string | undefined {
  let roleId: string | undefined;
  for (const n of def ? descendants(def) : []) {
    const text = n.type === 'identifier' ? evaluate(n, scope, file) : n.type === 'string' ? stringLiteral(n) : undefined;
    if (typeof text === 'string' && GUID.test(text)) roleId = text;
  }
  return roleId;
}

/** Objects an expression can produce: literals, variables, concat/union arguments, loop bodies, both ternary arms. */
export function collectObjects(node: SyntaxNode | undefined, file: BicepFile): SyntaxNode[] {
  if (!node) return [];
  const n = deref(node, file);
  switch (n.type) {
    case 'object':
      return [n];
    case 'array':
      return n.namedChildren.flatMap((c) => collectObjects(c, file));
    case 'for_statement':
      return collectObjects(n.childForFieldName('body') ?? undefined, file);
    case 'ternary_expression':
      return [...collectObjects(n.childForFieldName('consequence') ?? undefined, file), ...collectObjects(n.childForFieldName('alternative') ?? undefined, file)];
    case 'call_expression': {
      const fn = n.childForFieldName('function')?.text;
      const args = n.childForFieldName('arguments');
      return (fn === 'concat' || fn === 'union') && args ? args.namedChildren.flatMap((c) => collectObjects(c, file)) : [];
    }
    default:
      return [];
  }
}

/** What the deployment rules (deployment-policy.ts, registry-policy.ts) get from the main policy run. */
export interface DeploymentPolicyInput {
  files: ReadonlyMap<string, BicepFile>;
  all: readonly BicepFile[];
  mainFile: BicepFile | undefined;
  ctx: PolicyContext;
  v(rule: string, file: BicepFile | string, message: string): void;
  resources(type: string): Array<{ file: BicepFile; r: ResourceDecl }>;
  wiring(rule: string, modulePath: string, paramName: string, pattern: RegExp): void;
}

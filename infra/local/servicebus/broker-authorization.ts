// LOCAL STAND-IN for Azure RBAC on Service Bus (T1-E): role assignments (principal → scope → role) and the check
// each link attach runs against the principal of the CBS token put for it. Scopes are the namespace (`/`) or one
// queue, as in Azure; the built-in roles carry the rights Service Bus checks (Data Sender: Send, Data Receiver:
// Listen, Data Owner: Send + Listen + Manage).

export type BrokerRight = 'Send' | 'Listen' | 'Manage';

/** The Azure built-in role names (their role definition ids are in bicep/modules/service-bus.bicep). */
export const BROKER_ROLES = {
  'Azure Service Bus Data Sender': ['Send'],
  'Azure Service Bus Data Receiver': ['Listen'],
  'Azure Service Bus Data Owner': ['Send', 'Listen', 'Manage'],
} as const satisfies Record<string, readonly BrokerRight[]>;

export type BrokerRole = keyof typeof BROKER_ROLES;

/** The namespace scope: a role assigned here holds on every entity, present and future. */
export const NAMESPACE_SCOPE = '/';

export interface RoleAssignment {
  /** Stable id (Bicep: guid(scope, principal, role)); re-assigning the same id replaces it. */
  id: string;
  principalId: string;
  /** NAMESPACE_SCOPE or one queue name (case-insensitive, as Service Bus entity names are). */
  scope: string;
  role: BrokerRole;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const SCOPE = /^(\/|[A-Za-z0-9][A-Za-z0-9._\-~]{0,259})$/;

/** @throws TypeError naming the bad field */
export function checkRoleAssignment(value: unknown): RoleAssignment {
  const a = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof a.id !== 'string' || !ID.test(a.id)) throw new TypeError('role assignment "id" is invalid');
  if (typeof a.principalId !== 'string' || !ID.test(a.principalId)) throw new TypeError('role assignment "principalId" is invalid');
  if (typeof a.scope !== 'string' || !SCOPE.test(a.scope)) throw new TypeError('role assignment "scope" must be "/" or a queue name');
  if (typeof a.role !== 'string' || !Object.hasOwn(BROKER_ROLES, a.role)) throw new TypeError('role assignment "role" is not a Service Bus data role');
  return { id: a.id, principalId: a.principalId, scope: a.scope, role: a.role as BrokerRole };
}

export class AuthorizationTable {
  readonly #assignments = new Map<string, RoleAssignment>();

  constructor(initial: readonly RoleAssignment[] = []) {
    for (const a of initial) this.assign(a);
  }

  assign(assignment: RoleAssignment): void {
    const a = checkRoleAssignment(assignment);
    this.#assignments.set(a.id, { ...a, scope: a.scope.toLowerCase() });
  }

  /** @returns false when no assignment had that id */
  remove(id: string): boolean {
    return this.#assignments.delete(id);
  }

  /** Drops every assignment scoped to the queue (Azure deletes them with the entity they are scoped to). */
  removeScope(queue: string): void {
    const scope = queue.toLowerCase();
    for (const [id, a] of this.#assignments) if (a.scope === scope) this.#assignments.delete(id);
  }

  list(): RoleAssignment[] {
    return [...this.#assignments.values()].map((a) => ({ ...a }));
  }

  /**
   * True when the principal holds any role covering the queue ('' = the namespace: a namespace-scoped role). The
   * $cbs node refuses a claim for an entity the principal has nothing on, before any link is attached.
   */
  coversAny(principalId: string, queue: string): boolean {
    const scope = queue.toLowerCase();
    for (const a of this.#assignments.values()) {
      if (a.principalId === principalId && (a.scope === NAMESPACE_SCOPE || (scope !== '' && a.scope === scope))) return true;
    }
    return false;
  }

  /** True when one of the principal's roles, at the namespace or at this queue, carries the right. */
  allows(principalId: string, queue: string, right: BrokerRight): boolean {
    const scope = queue.toLowerCase();
    for (const a of this.#assignments.values()) {
      if (a.principalId !== principalId) continue;
      if (a.scope !== NAMESPACE_SCOPE && a.scope !== scope) continue;
      if ((BROKER_ROLES[a.role] as readonly BrokerRight[]).includes(right)) return true;
    }
    return false;
  }
}

// LOCAL STAND-IN, not Azure: a SandboxIdentityProvisioner (T1-E) over the local stack's management endpoints — the
// AMQP broker's (queues, role assignments) and the identity stand-in's (workload identities with one federated
// credential). It does what bicep/modules/sandbox-identity.bicep deploys per sandbox in Azure.
import * as http from 'node:http';
import * as https from 'node:https';
import { KarsError } from '../../core/errors';
import type { SandboxIdentityCallOptions, SandboxIdentityGrant, SandboxIdentityProvisioner } from '../../core/ports/sandbox-identity.port';
import type { Redacted } from '../../core/secrets/redacted';
import { routerSubjectOf } from '../../core/sandbox/router-subject';
import { sandboxEventsEntity } from '../../core/sandbox/sandbox-events-entity';

export interface LocalSandboxIdentityOptions {
  /** The broker's management API (`http://127.0.0.1:<port>`). */
  brokerAdminUrl: string;
  /** The identity stand-in's authority host (`https://127.0.0.1:<port>`). */
  identityUrl: string;
  /** The dev CA the identity stand-in's certificate chains to. */
  caCertPem: string;
  /** The stack's management key (infra/local/admin-key.ts). */
  adminKey: Redacted<string>;
  /** Principals that send events to every sandbox queue (the edge): Data Sender on each queue, nothing more. */
  senderPrincipalIds: readonly string[];
  /**
   * Shared session queues each sandbox identity also reads, its own session only by the router's code (today: the mesh
   * notices queue). Receiver on such a queue is the T1-E weakness the sandbox's own events queue closes for events.
   */
  sharedReceiverQueues?: readonly string[];
  /** Peek-lock deliveries before dead-lettering (Service Bus default 10, as the Bicep queue). */
  maxDeliveryCount?: number;
  timeoutMs?: number;
}

/** The grant plus the file the stand-in keeps the router's service-account token in (the projected volume in AKS). */
export interface LocalSandboxIdentityGrant extends SandboxIdentityGrant {
  federatedTokenFile: string;
}

const RECEIVER_ROLE = 'Azure Service Bus Data Receiver';
const SENDER_ROLE = 'Azure Service Bus Data Sender';

export class LocalSandboxIdentityProvisioner implements SandboxIdentityProvisioner {
  constructor(private readonly options: LocalSandboxIdentityOptions) {}

  async provision(sandboxId: string, callOptions: SandboxIdentityCallOptions = {}): Promise<LocalSandboxIdentityGrant> {
    const entity = sandboxEventsEntity(sandboxId);
    const subject = routerSubjectOf(sandboxId);
    const signal = callOptions.abortSignal;
    await this.#call('broker', 'PUT', `/queues/${entity}`, {
      requiresSession: true, maxDeliveryCount: this.options.maxDeliveryCount ?? 10,
    }, signal);
    const identity = await this.#call('identity', 'PUT', `/admin/workload-identities/${identityName(sandboxId)}`, { subject }, signal) as {
      clientId: string; principalId: string; federatedTokenFile: string;
    };
    // Scoped to the sandbox's own queue: its identity can receive there and nowhere else.
    await this.#call('broker', 'PUT', `/role-assignments/${receiverAssignmentId(sandboxId)}`, {
      principalId: identity.principalId, scope: entity, role: RECEIVER_ROLE,
    }, signal);
    for (const queue of this.options.sharedReceiverQueues ?? []) {
      await this.#call('broker', 'PUT', `/role-assignments/${sharedReceiverAssignmentId(sandboxId, queue)}`, {
        principalId: identity.principalId, scope: queue, role: RECEIVER_ROLE,
      }, signal);
    }
    for (const [i, principalId] of this.options.senderPrincipalIds.entries()) {
      await this.#call('broker', 'PUT', `/role-assignments/${senderAssignmentId(sandboxId, i)}`, {
        principalId, scope: entity, role: SENDER_ROLE,
      }, signal);
    }
    return {
      sandboxId, entity, subject, clientId: identity.clientId, principalId: identity.principalId,
      federatedTokenFile: identity.federatedTokenFile,
    };
  }

  async deprovision(sandboxId: string, callOptions: SandboxIdentityCallOptions = {}): Promise<void> {
    const entity = sandboxEventsEntity(sandboxId);
    const signal = callOptions.abortSignal;
    // The grant goes first, so the identity never outlives its scope with rights left on it.
    await this.#call('broker', 'DELETE', `/role-assignments/${receiverAssignmentId(sandboxId)}`, undefined, signal);
    for (const queue of this.options.sharedReceiverQueues ?? []) {
      await this.#call('broker', 'DELETE', `/role-assignments/${sharedReceiverAssignmentId(sandboxId, queue)}`, undefined, signal);
    }
    for (const i of this.options.senderPrincipalIds.keys()) {
      await this.#call('broker', 'DELETE', `/role-assignments/${senderAssignmentId(sandboxId, i)}`, undefined, signal);
    }
    await this.#call('identity', 'DELETE', `/admin/workload-identities/${identityName(sandboxId)}`, undefined, signal);
    await this.#call('broker', 'DELETE', `/queues/${entity}`, undefined, signal);
  }

  #call(target: 'broker' | 'identity', method: string, path: string, body: unknown, signal: AbortSignal | undefined): Promise<unknown> {
    const base = target === 'broker' ? this.options.brokerAdminUrl : this.options.identityUrl;
    const url = new URL(path, base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const what = `${method} ${target} management`;
    return new Promise((resolve, reject) => {
      const req = (url.protocol === 'https:' ? https : http).request(url, {
        method,
        timeout: this.options.timeoutMs ?? 5000,
        ...(url.protocol === 'https:' ? { ca: this.options.caCertPem } : {}),
        ...(signal ? { signal } : {}),
        headers: {
          authorization: `Bearer ${this.options.adminKey.reveal()}`,
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            return reject(new KarsError(status === 400 ? 'INPUT_INVALID' : 'DEPENDENCY_UNAVAILABLE', `${what}: answered ${status}`));
          }
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve(text ? JSON.parse(text) : undefined);
          } catch (e) {
            reject(new KarsError('DEPENDENCY_UNAVAILABLE', `${what}: unreadable answer`, { cause: e }));
          }
        });
      });
      req.on('timeout', () => req.destroy(new KarsError('DEPENDENCY_TIMEOUT', `${what}: no answer in time`)));
      req.on('error', (e) => reject(e instanceof KarsError ? e
        : signal?.aborted ? new KarsError('DEPENDENCY_TIMEOUT', `${what}: aborted`, { cause: e })
        : new KarsError('DEPENDENCY_UNAVAILABLE', `${what}: unreachable`, { cause: e })));
      req.end(payload);
    });
  }
}

const identityName = (sandboxId: string): string => `kars-sbx-${sandboxId}`;
const receiverAssignmentId = (sandboxId: string): string => `sbx-${sandboxId}-receiver`;
const sharedReceiverAssignmentId = (sandboxId: string, queue: string): string => `sbx-${sandboxId}-receiver-${queue}`;
const senderAssignmentId = (sandboxId: string, i: number): string => `sbx-${sandboxId}-sender-${i}`;

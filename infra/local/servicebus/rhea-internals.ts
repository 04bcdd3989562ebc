// Local Service Bus stand-in: the few rhea internals a broker needs that rhea's typings do not expose.
import { message as rheaMessage, type Connection, type Delivery, type link as RheaLink, type Sender } from 'rhea';

interface Terminus {
  address?: string;
  filter?: Record<string, unknown> | null;
}

interface AttachFrame {
  source?: unknown;
  target?: unknown;
  snd_settle_mode?: number;
  rcv_settle_mode?: number;
  max_message_size?: number;
  properties?: Record<string, unknown>;
}

interface LinkInternals {
  state: { open_requests: number };
  local: { attach: AttachFrame };
  remote: { attach?: { source?: Terminus | null; target?: Terminus | null; properties?: Record<string, unknown> | null; snd_settle_mode?: number; rcv_settle_mode?: number } };
  credit: number;
  connection: Connection & { _register(): void };
  session: { outgoing: { next_pending_delivery: number; available(): number } };
}

const internals = (link: RheaLink): LinkInternals => link as unknown as LinkInternals;

export function remoteSource(link: RheaLink): Terminus | undefined {
  return internals(link).remote.attach?.source ?? undefined;
}

export function remoteTarget(link: RheaLink): Terminus | undefined {
  return internals(link).remote.attach?.target ?? undefined;
}

export function remoteProperties(link: RheaLink): Record<string, unknown> {
  return internals(link).remote.attach?.properties ?? {};
}

/** The client's receive mode: snd-settle-mode settled (1) means receiveAndDelete. */
export function remoteSettleModes(link: RheaLink): { snd: number; rcv: number } {
  const a = internals(link).remote.attach;
  return { snd: a?.snd_settle_mode ?? 0, rcv: a?.rcv_settle_mode ?? 0 };
}

/** Fields of the attach frame this end sends back. Must be set before rhea writes it (same tick as the open event). */
export function localAttach(link: RheaLink): AttachFrame {
  return internals(link).local.attach;
}

/**
 * rhea answers an attach as soon as the open event has run; accept-next-session must hold the answer until a
 * session frees up, so the pending open request is taken back here and restored by releaseAttach.
 */
export function holdAttach(link: RheaLink): void {
  internals(link).state.open_requests = 0;
}

export function releaseAttach(link: RheaLink): void {
  const l = internals(link);
  l.state.open_requests = 1;
  l.connection._register();
}

/** Link credit not yet used by transfers rhea has written. */
export function linkCredit(link: Sender): number {
  return internals(link).credit;
}

/** Id of the first delivery of this session that rhea has not yet transferred. */
export function nextUntransferredDeliveryId(link: Sender): number {
  return internals(link).session.outgoing.next_pending_delivery;
}

/** Free slots in the session's outgoing delivery buffer. */
export function outgoingSpace(link: Sender): number {
  return internals(link).session.outgoing.available();
}

type OutcomeName = 'accepted' | 'rejected' | 'released';
const outcomes = rheaMessage as unknown as Record<OutcomeName, (fields?: object) => { described(): unknown }>;

/** A delivery outcome to settle a disposition with (rhea defines these at runtime but does not type them). */
export function outcomeState(name: OutcomeName, fields?: { error?: { condition: string; description: string } }): unknown {
  return outcomes[name](fields ?? {}).described();
}

/**
 * Settles an outgoing delivery the client disposed of in rcv-settle-mode second. The client settles silently once
 * it sees our settlement, so rhea would wait forever for a settled disposition and keep the delivery in the
 * session's 2048-slot buffer; after 2048 deliveries the link would stall. Marking it remotely settled (after the
 * disposition is queued) lets rhea free the slot.
 */
export function settleOutgoing(delivery: Delivery, state: unknown): void {
  delivery.update(true, state);
  (delivery as unknown as { remote_settled: boolean }).remote_settled = true;
}

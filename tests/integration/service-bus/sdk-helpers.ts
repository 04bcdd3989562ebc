// Shared helpers of the broker tests that drive the real @azure/service-bus SDK.
import type { ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';

/** Receiver option: no background lock renewal, so lock expiry is observable. */
export const noRenew = { maxAutoLockRenewalDurationInMs: 0 } as const;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Receives until `count` messages arrived or 5 s passed. */
export async function receiveAll(receiver: ServiceBusReceiver, count: number): Promise<ServiceBusReceivedMessage[]> {
  const out: ServiceBusReceivedMessage[] = [];
  const deadline = Date.now() + 5000;
  while (out.length < count && Date.now() < deadline) {
    out.push(...(await receiver.receiveMessages(count - out.length, { maxWaitTimeInMs: 1000 })));
  }
  return out;
}

/** The SDK error code a promise rejects with, or 'resolved'. */
export async function errorCode(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return (e as { code?: unknown }).code;
  }
}

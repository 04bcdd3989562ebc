// Test fixtures: identities for our mesh client and for the unmodified AGT SDK, and a fake WebSocket that lets an AGT
// MeshClient run its real frame code in process.
import { randomBytes } from 'node:crypto';
import { MeshClient, X3DHKeyManager } from '@microsoft/agent-governance-sdk';
import { ed25519PublicKey } from '../../../core/mesh/curve-keys';
import { MeshKeyManager } from '../../../sandbox-node/mesh/mesh-key-manager';

export function ourPeer(otks = 4): MeshKeyManager {
  const keys = new MeshKeyManager(new Uint8Array(randomBytes(32)));
  keys.generateSignedPrekey();
  keys.generateOneTimePrekeys(otks);
  return keys;
}

export function agtKeyManager(otks = 4): X3DHKeyManager {
  const seed = new Uint8Array(randomBytes(32));
  const km = new X3DHKeyManager(seed, ed25519PublicKey(seed));
  km.generateSignedPreKey();
  km.generateOneTimePreKeys(otks);
  return km;
}

interface FakeSocket {
  onopen?: () => void;
  onmessage?: (e: { data: string }) => void;
  onerror?: (e: unknown) => void;
  onclose?: (e: unknown) => void;
  send(data: string): void;
  close(): void;
}

/** An AGT MeshClient wired to an in-memory socket: `sent` collects its frames, `deliver` feeds it one. */
export async function agtClient(agentDid: string, keyManager: X3DHKeyManager): Promise<{
  client: MeshClient;
  sent: Array<Record<string, unknown>>;
  deliver: (frame: unknown) => Promise<void>;
  received: unknown[];
}> {
  const sent: Array<Record<string, unknown>> = [];
  const received: unknown[] = [];
  let socket: FakeSocket | undefined;
  const client = new MeshClient({
    agentDid,
    relayUrl: 'http://relay.invalid',
    keyManager,
    autoRegister: false,
    autoReconnect: false,
    wsFactory: () => {
      socket = { send: (d: string) => void sent.push(JSON.parse(d) as Record<string, unknown>), close: () => undefined };
      setImmediate(() => socket!.onopen?.());
      return socket as never;
    },
  } as never);
  client.onMessage((_from: string, payload: unknown) => void received.push(payload));
  await client.connect();
  const deliver = async (frame: unknown): Promise<void> => {
    socket!.onmessage!({ data: JSON.stringify(frame) });
    await new Promise((r) => setTimeout(r, 5));
  };
  return { client, sent, deliver, received };
}

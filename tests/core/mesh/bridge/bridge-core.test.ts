// Unit tests of the router bridge's pure parts: agent frame parsing, the DID a proof-of-possession key derives, the
// countersignature (every single-bit flip of frame or signature refused), the replay window and the DID binding.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAgentFrame } from '../../../../core/mesh/bridge/agent-frames';
import { bridgeReceipt } from '../../../../core/mesh/bridge/bridge-receipt';
import { acceptRouterReceipts } from '../../../../core/router/audit/accept-router-receipts';
import { didMeshOf } from '../../../../core/mesh/bridge/connect-proof';
import { loadDidBinding } from '../../../../core/mesh/bridge/did-binding';
import { createReplayWindow } from '../../../../core/mesh/bridge/replay-window';
import { countersign, readCountersignature, verifyCountersignature } from '../../../../core/mesh/bridge/router-countersignature';
import { fileDidBindingStore } from '../../../../sandbox-node/router/mesh/file-did-binding-store';
import { loadMeshBridgeConfig, MESH_BRIDGE_SETTING_KEYS } from '../../../../sandbox-node/router/mesh/mesh-bridge-config';
import { assertProperty } from '../../../support/property';
import { knockFrame, newSandboxSigner } from '../../../mesh/bridge-fixture';

describe('agent frames', () => {
  it('parses the AGT 4.x frames and refuses malformed ones by field name only', () => {
    expect(parseAgentFrame('{"v":1,"type":"connect","from":"did:mesh:abc"}')).toMatchObject({ ok: true, value: { kind: 'connect' } });
    expect(parseAgentFrame('{"v":1,"type":"ack","id":"m-1"}')).toEqual({ ok: true, value: { kind: 'ack', id: 'm-1' } });
    expect(parseAgentFrame('{"v":1,"type":"fetch_pending","from":"did:mesh:abc"}')).toEqual({ ok: true, value: { kind: 'fetch_pending' } });
    expect(parseAgentFrame(JSON.stringify(knockFrame('did:mesh:a', 'did:mesh:b', 'k', 0)))).toMatchObject({ ok: true, value: { kind: 'relayed' } });
    expect(parseAgentFrame('not json')).toEqual({ ok: false, message: 'frame is not JSON' });
    const bad = parseAgentFrame('{"v":1,"type":"message","from":"did:mesh:a","to":"<script>","id":"x"}');
    expect(bad).toEqual({ ok: false, message: 'invalid frame: to' });
    expect(parseAgentFrame('{"v":2,"type":"heartbeat"}').ok).toBe(false);
    expect(parseAgentFrame('x'.repeat(300 * 1024))).toEqual({ ok: false, message: 'frame too large' });
  });
});

describe('proof-of-possession DID', () => {
  it('is did:mesh: + the first 32 hex characters of SHA-256 over the raw key (AGT relay form)', () => {
    // SHA-256 of 32 zero bytes = 66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925
    expect(didMeshOf(new Uint8Array(32))).toBe('did:mesh:66687aadf862bd776c8fc18b8e9f8e20');
  });
});

describe('router countersignature', () => {
  it('verifies under the router key; any single-bit flip of a frame field or the signature is refused', () => {
    const signer = newSandboxSigner('sb-a');
    const signed = countersign(knockFrame('did:mesh:alice', 'did:mesh:bob', 'k-1', 1_700_000_000_000), signer, 1_700_000_000_000);
    const c = readCountersignature(signed)!;
    expect(verifyCountersignature(signed, c, signer.publicKey)).toBe(true);
    expect(verifyCountersignature(signed, c, newSandboxSigner('sb-a').publicKey)).toBe(false);
    expect(verifyCountersignature(signed, { ...c, sandbox: 'sb-b' }, signer.publicKey)).toBe(false);
    expect(verifyCountersignature(signed, { ...c, at: String(Number(c.at) + 1) }, signer.publicKey)).toBe(false);
    const fields = ['from', 'to', 'id', 'ts', 'type'] as const;
    assertProperty(fc.property(fc.constantFrom(...fields, 'sig' as const), fc.nat(), (field, bitSeed) => {
      const text = field === 'sig' ? c.sig : String(signed[field]);
      const bytes = Buffer.from(text, 'utf8');
      const bit = bitSeed % (bytes.length * 8);
      bytes[bit >> 3]! ^= 1 << (bit & 7);
      const flipped = bytes.toString('latin1');
      if (flipped === text) return;
      const frame = field === 'sig' ? signed : { ...signed, [field]: flipped };
      const cs = field === 'sig' ? { ...c, sig: flipped } : c;
      expect(verifyCountersignature(frame, cs, signer.publicKey)).toBe(false);
    }));
  });
});

describe('replay window', () => {
  it('claims once until expiry, evicts the oldest at the cap', () => {
    const w = createReplayWindow(2);
    expect(w.claim('a', 100, 0)).toBe(true);
    expect(w.claim('a', 100, 50)).toBe(false);
    expect(w.claim('a', 200, 100)).toBe(true);
    w.claim('b', 300, 100);
    w.claim('c', 300, 100);
    expect(w.size).toBeLessThanOrEqual(2);
    expect(w.has('c', 100)).toBe(true);
  });
});

describe('DID binding', () => {
  it('binds once, persists across a restart, and refuses another DID; a configured DID wins', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kars-binding-'));
    try {
      const file = join(dir, 'binding.json');
      const first = await loadDidBinding(fileDidBindingStore(file));
      expect(first.admits('did:mesh:x')).toBe(true);
      const [a, b] = await Promise.all([first.bind('did:mesh:alice'), first.bind('did:mesh:mallory')]);
      expect([a, b]).toEqual(['bound', 'mismatch']);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ did: 'did:mesh:alice' });
      const restarted = await loadDidBinding(fileDidBindingStore(file));
      expect(restarted.current()).toBe('did:mesh:alice');
      expect(await restarted.bind('did:mesh:mallory')).toBe('mismatch');
      const configured = await loadDidBinding(fileDidBindingStore(file), 'did:mesh:carol');
      expect(configured.current()).toBe('did:mesh:carol');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mesh bridge settings', () => {
  it('are off without a Functions URL, need a key and a binding source, and have no mitigation switch', () => {
    expect(loadMeshBridgeConfig({})).toBeUndefined();
    expect(() => loadMeshBridgeConfig({ KARS_MESH_FUNCTIONS_URL: 'http://127.0.0.1:7071/api' })).toThrow(/KARS_MESH_SANDBOX_KEY_FILE, KARS_MESH_BINDING_FILE/);
    expect(() => loadMeshBridgeConfig({ KARS_MESH_FUNCTIONS_URL: 'http://example.com/api', KARS_MESH_SANDBOX_KEY_FILE: 'k', KARS_MESH_AGENT_DID: 'did:mesh:a' })).toThrow(/KARS_MESH_FUNCTIONS_URL/);
    const c = loadMeshBridgeConfig({ KARS_MESH_FUNCTIONS_URL: 'https://kars.example/api', KARS_MESH_SANDBOX_KEY_FILE: 'k', KARS_MESH_BINDING_FILE: 'b' })!;
    expect(c.trustThreshold).toBe(500);
    expect(MESH_BRIDGE_SETTING_KEYS.some((k) => /disable|mitigation/i.test(k))).toBe(false);
  });
});

describe('bridge receipts', () => {
  it('ship through the router-receipt route: own sandbox, hash recomputed, a changed field refused', async () => {
    const appended: unknown[] = [];
    const sink = { async append(r: unknown) { appended.push(r); return 'id'; } };
    const r = bridgeReceipt({ sandboxId: 'sb-a', direction: 'inbound', type: 'knock', sender: 'did:mesh:x', recipient: 'did:mesh:y', messageId: 'k-1', decision: 'refused' }, 1_700_000_000_000, 401, 'MESH_COUNTERSIGNATURE_INVALID');
    const caller = { sandboxId: 'sb-a' };
    expect(await acceptRouterReceipts(caller, [r], sink)).toEqual(['id']);
    await expect(acceptRouterReceipts(caller, [{ ...r, code: 'MESH_TRUST_INSUFFICIENT' }], sink)).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(acceptRouterReceipts(caller, [{ ...r, subject: { ...r.subject, sender: 'did:mesh:z' } }], sink)).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(acceptRouterReceipts({ ...caller, sandboxId: 'sb-b' }, [r], sink)).rejects.toMatchObject({ code: 'AUTH_FORBIDDEN' });
  });
});

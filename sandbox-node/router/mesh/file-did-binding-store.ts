// DidBindingStore in a small file on the router's writable volume (T4-S): `{ "did": "…" }`, written 0600 to a temp
// name and renamed, so a crash never leaves half a binding.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { KarsError } from '../../../core/errors';
import type { DidBindingStore } from '../../../core/ports/did-binding-store.port';
import { BRIDGE_DID_RE } from '../../../core/mesh/bridge/agent-frames';

export function fileDidBindingStore(file: string): DidBindingStore {
  return {
    async load() {
      let text: string;
      try {
        text = await fs.readFile(file, 'utf8');
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOENT') return undefined;
        throw new KarsError('CONFIG_INVALID', 'mesh binding file unreadable');
      }
      const did = (JSON.parse(text) as { did?: unknown }).did;
      if (typeof did !== 'string' || !BRIDGE_DID_RE.test(did)) throw new KarsError('CONFIG_INVALID', 'mesh binding file holds no DID');
      return did;
    },
    async save(did) {
      await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      await fs.writeFile(tmp, JSON.stringify({ did }), { mode: 0o600 });
      await fs.rename(tmp, file);
    },
  };
}

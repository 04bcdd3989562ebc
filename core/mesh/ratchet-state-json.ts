// T4-T: ratchet state to and from JSON (AgentMesh wire spec §8.5 field names, hex keys) so a session survives a
// restart. Parsing is strict: a stored state with a wrong length, counter or more skipped keys than the caps is
// refused, never repaired. Holds secret keys: store it like one (never in a log line).
import { bytesToHex, decodeHexStrict } from '../crypto/strict-encoding';
import { fail, ok, type Result } from '../errors';
import { isMeshSuiteName } from './mesh-suites';
import { MAX_SKIPPED_TOTAL, type RatchetState } from './ratchet';
import { MAX_U32 } from './ratchet-header';

export interface RatchetStateJson {
  v: 1;
  suite: string;
  dh_self_private: string;
  dh_self_public: string;
  dh_remote_public: string | null;
  root_key: string;
  chain_key_send: string | null;
  chain_key_recv: string | null;
  n_send: number;
  n_recv: number;
  pn: number;
  /** `<dh_pub_hex>:<n>` → message key hex, oldest first. */
  skipped_keys: Record<string, string>;
}

const hexOrNull = (b: Uint8Array | null): string | null => (b === null ? null : bytesToHex(b));

/** The JSON form of a ratchet state (secret material: treat the result as a secret). */
export function ratchetStateToJson(state: RatchetState): RatchetStateJson {
  return {
    v: 1,
    suite: state.suite,
    dh_self_private: bytesToHex(state.dhSelf.privateKey),
    dh_self_public: bytesToHex(state.dhSelf.publicKey),
    dh_remote_public: hexOrNull(state.dhRemote),
    root_key: bytesToHex(state.rootKey),
    chain_key_send: hexOrNull(state.chainSend),
    chain_key_recv: hexOrNull(state.chainRecv),
    n_send: state.ns,
    n_recv: state.nr,
    pn: state.pn,
    skipped_keys: Object.fromEntries([...state.skipped].map(([k, mk]) => [k, bytesToHex(mk)])),
  };
}

const SKIP_ID_RE = /^[0-9a-f]{64}:(0|[1-9]\d{0,9})$/;
const isU32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_U32;

/**
 * Parses {@link ratchetStateToJson}'s output (or its JSON text round-trip).
 * @returns MESH_STATE_INVALID naming the first bad field (never its value)
 */
export function ratchetStateFromJson(json: unknown): Result<RatchetState> {
  const bad = (field: string) => fail('MESH_STATE_INVALID', `ratchet state field ${field} is invalid`);
  if (typeof json !== 'object' || json === null) return bad('(root)');
  const j = json as Record<string, unknown>;
  if (j.v !== 1) return bad('v');
  if (!isMeshSuiteName(j.suite)) return bad('suite');
  const key = (field: string, nullable: boolean): Uint8Array | null | undefined => {
    const v = j[field];
    if (v === null && nullable) return null;
    return typeof v === 'string' ? decodeHexStrict(v, 32) : undefined;
  };
  const fields = {
    dhSelfPrivate: key('dh_self_private', false),
    dhSelfPublic: key('dh_self_public', false),
    dhRemote: key('dh_remote_public', true),
    rootKey: key('root_key', false),
    chainSend: key('chain_key_send', true),
    chainRecv: key('chain_key_recv', true),
  };
  const names: Record<keyof typeof fields, string> = {
    dhSelfPrivate: 'dh_self_private', dhSelfPublic: 'dh_self_public', dhRemote: 'dh_remote_public',
    rootKey: 'root_key', chainSend: 'chain_key_send', chainRecv: 'chain_key_recv',
  };
  for (const [k, v] of Object.entries(fields)) if (v === undefined) return bad(names[k as keyof typeof fields]);
  for (const f of ['n_send', 'n_recv', 'pn']) if (!isU32(j[f])) return bad(f);
  const skippedJson = j.skipped_keys;
  if (typeof skippedJson !== 'object' || skippedJson === null || Array.isArray(skippedJson)) return bad('skipped_keys');
  const entries = Object.entries(skippedJson);
  if (entries.length > MAX_SKIPPED_TOTAL) return bad('skipped_keys');
  const skipped = new Map<string, Uint8Array>();
  for (const [id, mkHex] of entries) {
    const m = SKIP_ID_RE.exec(id);
    const mk = typeof mkHex === 'string' ? decodeHexStrict(mkHex, 32) : undefined;
    if (m === null || !isU32(Number(m[1])) || mk === undefined) return bad('skipped_keys');
    skipped.set(id, mk);
  }
  return ok({
    suite: j.suite,
    dhSelf: { privateKey: fields.dhSelfPrivate!, publicKey: fields.dhSelfPublic! },
    dhRemote: fields.dhRemote ?? null,
    rootKey: fields.rootKey!,
    chainSend: fields.chainSend ?? null,
    chainRecv: fields.chainRecv ?? null,
    ns: j.n_send as number,
    nr: j.n_recv as number,
    pn: j.pn as number,
    skipped,
  });
}

// T1-I: everything a logged value prints, as text, for the canary guard. JSON.stringify shows an Error as `{}`, yet
// a logger or util.inspect prints its message, stack, cause and own properties: all of those are scanned.
import { inspect } from 'node:util';

/** The text of every string reachable from `value`: Error message/stack/cause/properties, object fields, buffers. */
export function renderLogged(value: unknown): string {
  const out: string[] = [];
  const seen = new Set<object>();
  const walk = (v: unknown, depth: number): void => {
    if (typeof v === 'string') return void out.push(v);
    if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || typeof v === 'symbol') return void out.push(String(v));
    if (v === null || v === undefined || depth > 8) return;
    if (typeof v === 'function') return void out.push(v.name);
    if (typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    if (v instanceof Uint8Array) return void out.push(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1'));
    if (v instanceof ArrayBuffer) return void out.push(Buffer.from(v).toString('latin1'));
    if (v instanceof Error) {
      out.push(v.name, v.message, v.stack ?? '');
      if ('cause' in v) walk(v.cause, depth + 1);
      if (v instanceof AggregateError) walk(v.errors, depth + 1);
    }
    if (v instanceof Map) for (const [k, x] of v) (walk(k, depth + 1), walk(x, depth + 1));
    if (v instanceof Set) for (const x of v) walk(x, depth + 1);
    for (const key of Reflect.ownKeys(v)) {
      if (typeof key === 'string') out.push(key);
      let field: unknown;
      try {
        field = (v as Record<PropertyKey, unknown>)[key];
      } catch {
        continue; // a throwing getter prints nothing
      }
      walk(field, depth + 1);
    }
  };
  walk(value, 0);
  // What console/util.inspect would print as well (custom inspect hooks, class names).
  try {
    out.push(inspect(value, { depth: 8, showHidden: false }));
  } catch {
    // an inspect hook that throws prints nothing
  }
  return out.join('\n');
}

// T1-E: the per-sandbox events queue name is derived, strict, and maps back to exactly one sandbox.
import { describe, expect, it } from 'vitest';
import { isKarsError } from '../../../core/errors';
import { routerSubjectOf } from '../../../core/sandbox/router-subject';
import { sandboxEventsEntity, sandboxIdOfEventsEntity } from '../../../core/sandbox/sandbox-events-entity';

const code = (f: () => unknown): unknown => {
  try {
    f();
    return 'returned';
  } catch (e) {
    return isKarsError(e) ? e.code : e;
  }
};

describe('sandboxEventsEntity', () => {
  it('is sbx-<id> for DNS-1123 labels and round-trips', () => {
    for (const id of ['a', 'demo-sandbox', 'x1', 'a'.repeat(63), '0-0']) {
      expect(sandboxEventsEntity(id)).toBe(`sbx-${id}`);
      expect(sandboxIdOfEventsEntity(sandboxEventsEntity(id))).toBe(id);
    }
  });

  it('refuses ids that would name another entity, a sub-queue, or none (INPUT_INVALID), never reshaping them', () => {
    const hostile = ['', 'A', 'demo_sandbox', 'a/$DeadLetterQueue', 'a/b', '$management', 'a.b', '-a', 'a-', 'a'.repeat(64),
      ' a', 'a\n', 'ä', '..', 'sbx-a/../b', 7 as unknown as string, undefined as unknown as string];
    for (const id of hostile) expect({ id, code: code(() => sandboxEventsEntity(id)) }).toEqual({ id, code: 'INPUT_INVALID' });
  });

  it('maps back only exact sbx-<label> names', () => {
    for (const name of ['sbx-', 'SBX-a', 'sbx-A', 'sbx-a/$DeadLetterQueue', 'kars-edge-inbound', 'xsbx-a', 'sbx-a-']) {
      expect(sandboxIdOfEventsEntity(name)).toBeUndefined();
    }
  });

  it('the router subject names only that sandbox\'s namespace and service account', () => {
    expect(routerSubjectOf('demo-sandbox')).toBe('system:serviceaccount:kars-demo-sandbox:kars-router');
    expect(code(() => routerSubjectOf('a:b'))).toBe('INPUT_INVALID');
  });
});

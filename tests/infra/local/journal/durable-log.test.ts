// The local stand-ins' record log: group commit, torn-tail detection, compaction racing appends.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DurableLog } from '../../../../infra/local/journal/durable-log';

type Rec = { k: string; v: number };
const base = mkdtempSync(join(tmpdir(), 'kars-durable-log-'));
let n = 0;
const freshFile = (): string => join(base, `log${++n}`, 'records.log');
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** A key-value state the log describes: the last record per key. */
function model(): { state: Map<string, number>; options: { snapshot: () => Rec[]; liveCount: () => number } } {
  const state = new Map<string, number>();
  return { state, options: { snapshot: () => [...state].map(([k, v]) => ({ k, v })), liveCount: () => state.size } };
}

async function reopen(file: string): Promise<{ records: Rec[]; tornBytes: number }> {
  const { log, records, tornBytes } = await DurableLog.open<Rec>(file, model().options);
  await log.close();
  return { records, tornBytes };
}

describe('DurableLog', () => {
  it('shares one fdatasync among every record appended while the previous one ran (group commit)', async () => {
    const file = freshFile();
    const { log } = await DurableLog.open<Rec>(file, model().options);
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 500; i += 1) {
      log.append({ k: `k${i}`, v: i });
      waits.push(log.durable());
    }
    await Promise.all(waits);
    expect(log.commits).toBeLessThanOrEqual(2); // the first record starts a commit at once; the other 499 share the next
    await log.close();
    expect((await reopen(file)).records).toHaveLength(500);
  });

  it('resolves durable() only for what is on disk', async () => {
    const file = freshFile();
    const { log } = await DurableLog.open<Rec>(file, model().options);
    log.append({ k: 'a', v: 1 });
    await log.durable();
    expect(readFileSync(file, 'utf8')).toContain('"k":"a"');
    await log.close();
  });

  it.each([
    ['an unterminated last line', (line: string) => line.slice(0, 20)],
    ['a checksum mismatch', (line: string) => `ffffffff${line.slice(8)}\n`],
    ['zeros (an extent allocated but never written)', (line: string) => '\0'.repeat(line.length) + '\n'],
    ['a line that is not an object', () => `${'0'.repeat(8)} 1\n`],
  ])('cuts off a torn tail: %s', async (_, tear) => {
    const file = freshFile();
    const { log } = await DurableLog.open<Rec>(file, model().options);
    for (let i = 0; i < 3; i += 1) log.append({ k: `k${i}`, v: i });
    await log.durable();
    await log.close();
    const intact = readFileSync(file);
    const torn = tear(intact.toString('utf8').split('\n')[0]! + '\n');
    appendFileSync(file, torn);
    const opened = await DurableLog.open<Rec>(file, model().options);
    expect(opened.records.map((r) => r.k)).toEqual(['k0', 'k1', 'k2']);
    expect(opened.tornBytes).toBe(Buffer.byteLength(torn));
    expect(readFileSync(file).equals(intact)).toBe(true); // cut on disk before any append
    expect(readFileSync(`${file}.torn`).toString('utf8')).toBe(torn); // and kept aside, not destroyed
    opened.log.append({ k: 'k3', v: 3 });
    await opened.log.durable();
    await opened.log.close();
    expect((await reopen(file)).records.map((r) => r.k)).toEqual(['k0', 'k1', 'k2', 'k3']);
  });

  it('stops at the first bad record: what follows it was written after it and is not trusted', async () => {
    const file = freshFile();
    const { log } = await DurableLog.open<Rec>(file, model().options);
    for (let i = 0; i < 3; i += 1) log.append({ k: `k${i}`, v: i });
    await log.close();
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[1] = lines[1]!.replace('"k1"', '"kX"');
    writeFileSync(file, lines.join('\n'));
    expect((await reopen(file)).records.map((r) => r.k)).toEqual(['k0']);
  });

  it('compacts to a snapshot while appends keep coming, losing none of them', async () => {
    const file = freshFile();
    const m = model();
    const { log } = await DurableLog.open<Rec>(file, { ...m.options, compactFactor: 1, compactSlack: 5 });
    const put = (k: string, v: number): Promise<void> => {
      m.state.set(k, v);
      log.append({ k, v });
      return log.durable();
    };
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; i < 100; i += 1) await put(`w${w}`, i);
    });
    const compactions = Array.from({ length: 5 }, async () => {
      await new Promise((r) => setTimeout(r, Math.random() * 20));
      await log.compact();
    });
    await Promise.all([...writers, ...compactions]);
    expect(log.recordsOnDisk).toBeLessThanOrEqual(4 + 5 + 4);
    await log.close();
    const replayed = new Map((await reopen(file)).records.map((r) => [r.k, r.v]));
    expect(replayed).toEqual(new Map([['w0', 99], ['w1', 99], ['w2', 99], ['w3', 99]]));
  });

  it('refuses appends after close', async () => {
    const { log } = await DurableLog.open<Rec>(freshFile(), model().options);
    await log.close();
    expect(() => log.append({ k: 'x', v: 0 })).toThrow('log closed');
  });
});

// A separate writer process for the concurrency test: appends receipts through the real Cosmos SDK, like one Function
// instance would. Started with `node -r ts-register.cjs append-writer.ts` and driven over the fork IPC channel.
import { createCosmosClient } from '../../../../adapters/cosmos/cosmos-client';
import { ensureCosmosContainers, RECEIPTS_CONTAINER } from '../../../../adapters/cosmos/cosmos-containers';
import { createCosmosReceiptStore } from '../../../../adapters/cosmos/cosmos-receipt-store';
import { createMemorySecretSource } from '../../../../adapters/memory/memory-secrets';
import { ReceiptAppender } from '../../../../core/audit/append-receipt';
import { createSecretCheckpointSigner } from '../../../../core/audit/checkpoint-signer';
import { countingConflicts } from '../../../../bench/audit-append';
import { isKarsError } from '../../../../core/errors';
import { systemClock } from '../../../../core/ports/clock.port';
import type { ReceiptStore } from '../../../../core/ports/receipt-store.port';
import { redact } from '../../../../core/secrets/redacted';

export interface WriterConfig {
  writer: number;
  endpoint: string;
  database: string;
  count: number;
  chainCount: number;
  concurrency: number;
  checkpointEvery: number;
}

export type WriterMessage =
  | { type: 'ready' }
  | { type: 'done'; ids: string[]; conflicts: number }
  | { type: 'failed'; code: string };

const send = (m: WriterMessage): void => {
  process.send?.(m);
};

async function run(config: WriterConfig): Promise<void> {
  // The dev key and the checkpoint key come through the environment, never argv (visible in ps).
  const client = createCosmosClient({ endpoint: config.endpoint, key: redact(process.env['WRITER_COSMOS_KEY'] ?? '') });
  const containers = await ensureCosmosContainers(client, config.database, [RECEIPTS_CONTAINER]);
  const inner = createCosmosReceiptStore(containers.get(RECEIPTS_CONTAINER.id)!);
  let conflicts = 0;
  // The real store, counting lost create races so the test can show the writers did collide.
  const store: ReceiptStore = countingConflicts(inner, () => {
    conflicts += 1;
  });

  const secrets = createMemorySecretSource({ 'audit-key': process.env['WRITER_SIGNING_KEY'] ?? '' });
  const appender = new ReceiptAppender(store, {
    clock: systemClock,
    layout: { prefix: 'audit', count: config.chainCount },
    signer: createSecretCheckpointSigner(secrets, { secretName: 'audit-key', clock: systemClock }),
    checkpointEvery: config.checkpointEvery,
    headHintEvery: 4,
  });
  send({ type: 'ready' });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  const ids: string[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < config.count) {
      const n = next;
      next += 1;
      const r = await appender.append({ subject: `w${config.writer}-s${n % 8}`, kind: 'test.append', outcome: 'accepted', data: { w: config.writer, n } });
      ids.push(r.id);
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, lane));
  await appender.whenIdle(); // checkpoints and hints run after the commits, off the callers' path
  client.dispose();
  send({ type: 'done', ids, conflicts });
}

const config = JSON.parse(process.argv[2] ?? '{}') as WriterConfig;
run(config).catch((e: unknown) => {
  send({ type: 'failed', code: isKarsError(e) ? e.code : e instanceof Error ? e.message : 'unknown' });
  process.exitCode = 1;
}).finally(() => {
  process.disconnect?.();
});

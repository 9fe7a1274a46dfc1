import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import { memoryLogger, simpleBatch } from '../test/batch-fixtures';
import { LeaderEpochCache } from './leader-epoch-cache';
import { PartitionLog } from './partition-log';
import { TopicConfig } from './topic-config';

const dirs: string[] = [];
const logs: PartitionLog[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-epochs-'));
  dirs.push(dir);
  return dir;
}

function open(dir: string): PartitionLog {
  const log = PartitionLog.open({ dir, config: TopicConfig.resolve(), logger: memoryLogger() });
  logs.push(log);
  return log;
}

afterEach(() => {
  for (const log of logs.splice(0)) log.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

test("endOffsetFor answers OffsetForLeaderEpoch as Kafka's cache does", () => {
  const cache = LeaderEpochCache.load(tempDir(), () => {});
  assert.deepEqual(cache.endOffsetFor(0, 10), { leaderEpoch: -1, endOffset: -1 });
  cache.assign(1, 0);
  cache.assign(1, 5); // same epoch, later offset: nothing to record
  cache.assign(3, 10);
  cache.assign(5, 20);
  assert.deepEqual(cache.epochEntries(), [
    { epoch: 1, startOffset: 0 },
    { epoch: 3, startOffset: 10 },
    { epoch: 5, startOffset: 20 },
  ]);
  assert.deepEqual(cache.endOffsetFor(5, 42), { leaderEpoch: 5, endOffset: 42 });
  assert.deepEqual(cache.endOffsetFor(3, 42), { leaderEpoch: 3, endOffset: 20 });
  assert.deepEqual(cache.endOffsetFor(4, 42), { leaderEpoch: 3, endOffset: 20 });
  assert.deepEqual(cache.endOffsetFor(0, 42), { leaderEpoch: 0, endOffset: 0 });
  assert.deepEqual(cache.endOffsetFor(6, 42), { leaderEpoch: -1, endOffset: -1 });
  assert.deepEqual(cache.endOffsetFor(-1, 42), { leaderEpoch: -1, endOffset: -1 });
  // An assignment that contradicts later entries replaces them.
  cache.assign(4, 15);
  assert.deepEqual(cache.epochEntries(), [
    { epoch: 1, startOffset: 0 },
    { epoch: 3, startOffset: 10 },
    { epoch: 4, startOffset: 15 },
  ]);
  cache.truncateFromEnd(12);
  assert.equal(cache.latestEpoch, 3);
  cache.truncateFromStart(11);
  assert.deepEqual(cache.epochEntries(), [{ epoch: 3, startOffset: 11 }]);
});

test('the partition log records epochs on append, forgets them on truncation, and keeps them across restarts', () => {
  const dir = tempDir();
  let log = open(dir);
  log.append(simpleBatch(5), 0);
  log.append(simpleBatch(5), 0);
  log.assignLeaderEpoch(2); // a new leader, before its first append
  log.append(simpleBatch(5), 2);
  log.append(simpleBatch(5), 3);
  assert.deepEqual(log.epochEntries(), [
    { epoch: 0, startOffset: 0 },
    { epoch: 2, startOffset: 10 },
    { epoch: 3, startOffset: 15 },
  ]);
  assert.deepEqual(log.endOffsetForEpoch(2), { leaderEpoch: 2, endOffset: 15 });
  assert.deepEqual(log.endOffsetForEpoch(1), { leaderEpoch: 0, endOffset: 10 });
  assert.deepEqual(log.endOffsetForEpoch(3), { leaderEpoch: 3, endOffset: 20 });
  assert.equal(fs.readFileSync(path.join(dir, 'leader-epoch-checkpoint'), 'utf8'), '0\n3\n0 0\n2 10\n3 15\n');

  // A follower truncating to where its old leader's epoch ended.
  log.truncateTo(log.endOffsetForEpoch(2).endOffset);
  assert.equal(log.latestEpoch, 2);
  // Then replicating the new leader's batches, which carry their epoch.
  const fromLeader = simpleBatch(2, { baseOffset: 15 });
  fromLeader.writeInt32BE(4, 12); // partitionLeaderEpoch, outside the CRC
  log.appendAsFollower(fromLeader);
  assert.deepEqual(log.endOffsetForEpoch(2), { leaderEpoch: 2, endOffset: 15 });
  log.close();
  log = open(dir);
  assert.equal(log.latestEpoch, 4);
  assert.deepEqual(log.endOffsetForEpoch(4), { leaderEpoch: 4, endOffset: 17 });
});

test('recovery relearns the epochs of the batches it validates and drops those past the recovered end', () => {
  const dir = tempDir();
  let log = open(dir);
  log.append(simpleBatch(3), 1);
  log.append(simpleBatch(3), 4);
  const file = path.join(dir, '00000000000000000000.log');
  const firstBatch = simpleBatch(3).length;
  log.closeForDeletion(); // a crash
  // The epoch 4 batch is torn, the checkpoint file lost.
  fs.truncateSync(file, firstBatch + 20);
  fs.rmSync(path.join(dir, 'leader-epoch-checkpoint'));
  log = open(dir);
  assert.equal(log.logEndOffset, 3);
  assert.deepEqual(log.epochEntries(), [{ epoch: 1, startOffset: 0 }]);
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import { memoryLogger, simpleBatch } from '../test/batch-fixtures';
import { PartitionLog } from './partition-log';
import { TopicConfig } from './topic-config';

const dirs: string[] = [];
const logs: PartitionLog[] = [];
const HOUR = 3_600_000;
const T0 = 1_700_000_000_000;

function open(overrides: Record<string, string>, follow = true): { log: PartitionLog; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-retention-'));
  dirs.push(dir);
  const log = PartitionLog.open({
    dir,
    config: TopicConfig.resolve({ 'segment.bytes': '400', ...overrides }),
    logger: memoryLogger(),
    highWatermarkFollowsLogEnd: follow,
  });
  logs.push(log);
  return { log, dir };
}

afterEach(() => {
  for (const log of logs.splice(0)) log.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const logFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.log'));

/** `n` batches of 2 records at timestamps from `ts` on, one per second. */
function fill(log: PartitionLog, n: number, ts: number): void {
  for (let i = 0; i < n; i++) log.append(simpleBatch(2, { timestamp: ts + i * 1000 }), 0);
}

test('retention.ms deletes the segments whose newest record is older, moving logStartOffset and removing files', () => {
  const { log, dir } = open({ 'retention.ms': String(HOUR) });
  fill(log, 12, T0); // old
  const oldSegments = log.segmentBaseOffsets().length;
  fill(log, 12, T0 + 3 * HOUR); // new; the first of these may share the last old segment
  const before = log.segmentBaseOffsets();
  const now = T0 + 3 * HOUR + 30 * 60_000;
  const deleted = log.deleteOldSegments(now);
  assert.ok(
    deleted >= oldSegments - 1 && deleted <= oldSegments,
    `deleted ${deleted} of ${oldSegments} old segments`,
  );
  assert.deepEqual(log.segmentBaseOffsets(), before.slice(deleted));
  assert.equal(log.logStartOffset, before[deleted]);
  assert.equal(logFiles(dir).length, before.length - deleted);
  for (const b of before.slice(0, deleted)) {
    for (const suffix of ['.log', '.index', '.timeindex']) {
      assert.ok(!fs.existsSync(path.join(dir, String(b).padStart(20, '0') + suffix)));
    }
  }
  assert.equal(log.deleteOldSegments(now), 0, 'the rest are young');
  // Much later everything is old, but the active segment stays.
  const remaining = log.segmentBaseOffsets().length;
  assert.equal(log.deleteOldSegments(now + 10 * HOUR), remaining - 1);
  assert.equal(log.segmentBaseOffsets().length, 1);
  assert.equal(log.logEndOffset, 48);
  assert.equal(log.logStartOffset, log.segmentBaseOffsets()[0]);
});

test('retention.bytes deletes the oldest segments while the log stays at or over the limit without them', () => {
  const { log } = open({ 'retention.bytes': '1000' });
  fill(log, 30, Date.now());
  const sizeBefore = log.size;
  const bases = log.segmentBaseOffsets();
  const deleted = log.deleteOldSegments();
  assert.ok(deleted > 0);
  assert.ok(log.size >= 1000 - 400 && log.size <= 1000 + 400, `size ${log.size} near retention.bytes`);
  assert.ok(log.size < sizeBefore);
  assert.equal(log.logStartOffset, bases[deleted]);
  assert.equal(log.deleteOldSegments(), 0);
});

test('-1 disables retention, and so does a cleanup.policy without delete', () => {
  const disabled: Record<string, string>[] = [
    { 'retention.ms': '-1', 'retention.bytes': '-1' },
    { 'cleanup.policy': 'compact', 'retention.ms': '1', 'retention.bytes': '1' },
  ];
  for (const overrides of disabled) {
    const { log } = open(overrides);
    fill(log, 20, T0);
    assert.equal(log.deleteOldSegments(T0 + 1000 * HOUR), 0);
    assert.equal(log.logStartOffset, 0);
  }
  const { log } = open({ 'cleanup.policy': 'compact,delete', 'retention.ms': '1' });
  fill(log, 20, T0);
  assert.ok(log.deleteOldSegments(T0 + HOUR) > 0);
});

test('retention never deletes above the high watermark', () => {
  const { log } = open({ 'retention.ms': '1' }, false);
  fill(log, 20, T0);
  const bases = log.segmentBaseOffsets();
  log.setHighWatermark(bases[2]);
  assert.equal(log.deleteOldSegments(T0 + HOUR), 2);
  assert.equal(log.logStartOffset, bases[2]);
});

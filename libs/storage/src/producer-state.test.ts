import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import { encodeBatch, memoryLogger, offsetsOf } from '../test/batch-fixtures';
import { PartitionLog } from './partition-log';
import { incrementSequence } from './producer-state';
import { TopicConfig } from './topic-config';

const dirs: string[] = [];
const logs: PartitionLog[] = [];
const PID = 4000;
const INT32_MAX = 2147483647;

function open(dir?: string, overrides: Record<string, string> = {}): { log: PartitionLog; dir: string } {
  const d = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-producers-'));
  if (dir === undefined) dirs.push(d);
  const log = PartitionLog.open({
    dir: d,
    config: TopicConfig.resolve(overrides),
    logger: memoryLogger(),
  });
  logs.push(log);
  return { log, dir: d };
}

afterEach(() => {
  for (const log of logs.splice(0)) log.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** An idempotent producer's batch of `count` records starting at sequence `seq`. */
function batch(seq: number, count = 2, epoch = 0, producerId = PID): Buffer {
  return encodeBatch({
    records: Array.from({ length: count }, (_, i) => ({ key: `k${seq + i}`, value: `v${seq + i}` })),
    producerId,
    producerEpoch: epoch,
    baseSequence: seq,
  });
}

const rejects = (code: number, pattern?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof KafkaProtocolError, String(err));
  assert.equal(err.code, code, err.message);
  if (pattern) assert.match(err.message, pattern);
  return true;
};

/** Every batch in the log as [baseOffset, lastOffset]. */
function stored(log: PartitionLog): [number, number][] {
  return offsetsOf(log.read(0, 1 << 20, { minOneBatch: true }).records);
}

test('a retry of any of the last five batches is answered with its original offsets and not appended', () => {
  const { log } = open();
  const originals = [];
  for (let i = 0; i < 7; i++) originals.push(log.append(batch(i * 2), 0));
  assert.deepEqual(
    originals.map((r) => [r.baseOffset, r.lastOffset, r.duplicate]),
    Array.from({ length: 7 }, (_, i) => [i * 2, i * 2 + 1, false]),
  );
  const end = log.logEndOffset;
  for (let i = 2; i < 7; i++) {
    const again = log.append(batch(i * 2), 0);
    assert.deepEqual(
      [again.baseOffset, again.lastOffset, again.duplicate],
      [i * 2, i * 2 + 1, true],
      `batch ${i} is one of the last five`,
    );
  }
  assert.equal(log.logEndOffset, end, 'nothing appended for the duplicates');
  assert.equal(stored(log).length, 7);
  // Older than the last five: no longer recognisable, and out of sequence.
  assert.throws(() => log.append(batch(2), 0), rejects(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER));
  assert.equal(log.append(batch(14), 0).baseOffset, end, 'the next sequence still goes on');
  assert.deepEqual(
    log.producerState(PID)?.batches.map((b) => b.firstSeq),
    [6, 8, 10, 12, 14],
  );
});

test('a gap in sequence is OUT_OF_ORDER_SEQUENCE_NUMBER and appends nothing', () => {
  const { log } = open();
  log.append(batch(0, 3), 0);
  assert.throws(
    () => log.append(batch(4), 0),
    rejects(
      ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      /4 \(incoming seq. number\), 2 \(current end sequence number\)/,
    ),
  );
  // Overlapping the last batch without matching it is no duplicate either.
  assert.throws(() => log.append(batch(1, 2), 0), rejects(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER));
  assert.equal(log.logEndOffset, 3);
  assert.equal(log.append(batch(3), 0).baseOffset, 3);
});

test('a stale epoch is INVALID_PRODUCER_EPOCH; a new epoch must start at sequence 0', () => {
  const { log } = open();
  log.append(batch(0, 2, 1), 0);
  log.append(batch(2, 2, 1), 0);
  assert.throws(() => log.append(batch(4, 2, 0), 0), rejects(ErrorCode.INVALID_PRODUCER_EPOCH));
  assert.throws(
    () => log.append(batch(4, 2, 2), 0),
    rejects(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, /new epoch/),
  );
  assert.equal(log.logEndOffset, 4);
  const bumped = log.append(batch(0, 2, 2), 0);
  assert.equal(bumped.duplicate, false, 'sequence 0 of a new epoch is no duplicate of epoch 1');
  assert.equal(bumped.baseOffset, 4);
  assert.throws(() => log.append(batch(2, 2, 1), 0), rejects(ErrorCode.INVALID_PRODUCER_EPOCH));
  assert.deepEqual(
    log.producerState(PID)?.batches.map((b) => b.firstOffset),
    [4],
  );
});

test('an unknown producer id may start at any sequence (as after its state expired); a negative one is INVALID_RECORD', () => {
  const { log } = open();
  assert.equal(log.append(batch(57, 2, 3), 0).baseOffset, 0);
  assert.throws(() => log.append(batch(-5, 2, 0, PID + 1), 0), rejects(ErrorCode.INVALID_RECORD));
  // Batches without a producer id are never checked.
  assert.equal(log.append(encodeBatch({ records: [{ value: 'plain' }] }), 0).baseOffset, 2);
  assert.equal(log.append(encodeBatch({ records: [{ value: 'plain' }] }), 0).baseOffset, 3);
});

test('sequence numbers wrap from int32 max to 0', () => {
  const { log } = open();
  assert.equal(incrementSequence(INT32_MAX - 1, 1), INT32_MAX);
  assert.equal(incrementSequence(INT32_MAX - 1, 3), 1);
  log.append(batch(INT32_MAX - 1, 2), 0);
  assert.equal(log.producerState(PID)?.batches[0].lastSeq, INT32_MAX);
  assert.equal(log.append(batch(0, 2), 0).duplicate, false);
  assert.equal(log.append(batch(INT32_MAX - 1, 2), 0).duplicate, true);
  // A batch that wraps inside itself.
  log.append(batch(2, 2), 0);
  const wrapped = encodeBatch({
    records: [{ value: 'a' }, { value: 'b' }, { value: 'c' }],
    producerId: PID + 1,
    producerEpoch: 0,
    baseSequence: INT32_MAX - 1,
  });
  log.append(wrapped, 0);
  assert.equal(log.producerState(PID + 1)?.batches[0].lastSeq, 0, 'int32 max - 1, int32 max, 0');
  assert.equal(log.append(batch(1, 1, 0, PID + 1), 0).duplicate, false);
});

test('several batches of one producer in one append are checked in order', () => {
  const { log } = open();
  const r = log.append(Buffer.concat([batch(0), batch(2), batch(4)]), 0);
  assert.deepEqual([r.baseOffset, r.lastOffset], [0, 5]);
  assert.deepEqual(
    log.producerState(PID)?.batches.map((b) => [b.firstSeq, b.firstOffset]),
    [
      [0, 0],
      [2, 2],
      [4, 4],
    ],
  );
  assert.throws(
    () => log.append(Buffer.concat([batch(6), batch(9)]), 0),
    rejects(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER),
  );
  assert.equal(log.logEndOffset, 6, 'a bad batch fails the whole append');
});

test('after a clean restart the snapshot recognises every one of the last five batches', () => {
  const { log, dir } = open();
  for (let i = 0; i < 6; i++) log.append(batch(i * 3, 3), 0);
  log.close();
  assert.ok(fs.existsSync(path.join(dir, '00000000000000000018.snapshot')), 'snapshot at the log end');
  const { log: reopened } = open(dir);
  for (let i = 1; i < 6; i++) {
    const r = reopened.append(batch(i * 3, 3), 0);
    assert.deepEqual([r.baseOffset, r.duplicate], [i * 3, true]);
  }
  assert.equal(reopened.logEndOffset, 18);
  assert.equal(reopened.append(batch(18, 3), 0).baseOffset, 18);
});

test('after a crash the state is the last roll snapshot plus the batches after it; without snapshots, the whole log', () => {
  const { log, dir } = open(undefined, { 'segment.bytes': '400' });
  for (let i = 0; i < 20; i++) log.append(batch(i * 2), 0);
  const segments = log.segmentBaseOffsets();
  assert.ok(segments.length > 3, 'rolled several segments');
  const snapshots = () => fs.readdirSync(dir).filter((f) => f.endsWith('.snapshot'));
  assert.deepEqual(
    snapshots(),
    segments.slice(1).map((b) => `${String(b).padStart(20, '0')}.snapshot`),
    'one snapshot per roll',
  );
  log.closeForDeletion(); // no clean-shutdown marker, no snapshot: as after kill -9
  logs.splice(logs.indexOf(log), 1);
  const { log: recovered } = open(dir, { 'segment.bytes': '400' });
  assert.equal(recovered.append(batch(34), 0).duplicate, true);
  assert.equal(recovered.append(batch(38), 0).duplicate, true);
  assert.equal(recovered.append(batch(40), 0).baseOffset, 40);
  recovered.closeForDeletion();
  logs.splice(logs.indexOf(recovered), 1);

  for (const f of snapshots()) fs.rmSync(path.join(dir, f));
  const { log: rebuilt } = open(dir, { 'segment.bytes': '400' });
  assert.equal(rebuilt.append(batch(40), 0).duplicate, true, 'rebuilt from the batch headers alone');
  assert.throws(() => rebuilt.append(batch(44), 0), rejects(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER));
});

test('a torn snapshot is skipped for an older one', () => {
  const { log, dir } = open(undefined, { 'segment.bytes': '400' });
  for (let i = 0; i < 12; i++) log.append(batch(i * 2), 0);
  log.close();
  const latest = path.join(dir, '00000000000000000024.snapshot');
  fs.writeFileSync(latest, fs.readFileSync(latest).subarray(0, 20));
  const { log: reopened } = open(dir, { 'segment.bytes': '400' });
  assert.ok(!fs.existsSync(latest), 'the unusable snapshot is deleted');
  assert.equal(reopened.append(batch(22), 0).duplicate, true);
  assert.equal(reopened.append(batch(24), 0).baseOffset, 24);
});

test('truncation rebuilds the state from what is left, so a truncated batch can be appended again', () => {
  const { log, dir } = open(undefined, { 'segment.bytes': '400' });
  for (let i = 0; i < 15; i++) log.append(batch(i * 2), 0);
  assert.ok(log.segmentBaseOffsets().length > 2);
  assert.equal(log.truncateTo(8), true);
  assert.equal(log.logEndOffset, 8);
  assert.deepEqual(
    log.producerState(PID)?.batches.map((b) => b.firstSeq),
    [0, 2, 4, 6],
  );
  const snapshots = fs.readdirSync(dir).filter((f) => f.endsWith('.snapshot'));
  assert.ok(
    snapshots.every((f) => Number(f.slice(0, 20)) <= 8),
    `no snapshot beyond the new end: ${snapshots}`,
  );
  assert.equal(log.append(batch(6), 0).duplicate, true);
  const again = log.append(batch(8), 0);
  assert.deepEqual([again.baseOffset, again.duplicate], [8, false]);
  log.truncateFullyAndStartAt(100);
  assert.equal(log.producerState(PID), undefined);
  assert.equal(log.append(batch(10), 0).baseOffset, 100, 'an emptied log knows no producer');
});

test('retention and DeleteRecords keep the producer state; deleted segments take their snapshots along', () => {
  const { log, dir } = open(undefined, { 'segment.bytes': '400' });
  for (let i = 0; i < 15; i++) log.append(batch(i * 2), 0);
  log.deleteRecordsBefore(log.highWatermark);
  assert.equal(log.segmentBaseOffsets().length, 1);
  assert.equal(log.append(batch(28), 0).duplicate, true, 'its batches are gone, its state is not');
  const snapshots = fs.readdirSync(dir).filter((f) => f.endsWith('.snapshot'));
  assert.deepEqual(snapshots, [`${String(log.segmentBaseOffsets()[0]).padStart(20, '0')}.snapshot`]);
  log.close();
  const { log: reopened } = open(dir, { 'segment.bytes': '400' });
  assert.equal(reopened.append(batch(28), 0).duplicate, true);
  assert.equal(reopened.append(batch(30), 0).baseOffset, 30);
});

test('followers record producer batches without checking them; idle producers expire', () => {
  const { log } = open();
  const replicated = encodeBatch({
    baseOffset: 0,
    records: [{ value: 'a' }, { value: 'b' }],
    producerId: PID,
    producerEpoch: 2,
    baseSequence: 10,
    timestamp: 1_000,
  });
  log.appendAsFollower(replicated);
  assert.deepEqual(log.producerState(PID)?.batches, [
    { firstSeq: 10, lastSeq: 11, firstOffset: 0, lastOffset: 1, timestamp: 1_000 },
  ]);
  assert.equal(log.removeExpiredProducers(1_000 + 59_999, 60_000), 0);
  assert.equal(log.removeExpiredProducers(1_000 + 60_000, 60_000), 1);
  assert.equal(log.producerState(PID), undefined);
});

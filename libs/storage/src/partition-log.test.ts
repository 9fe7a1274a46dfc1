import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import {
  ATTRIBUTE,
  BatchHeader,
  ErrorCode,
  KafkaProtocolError,
  validateProducedBatches,
} from '@tributary/protocol';
import { encodeBatch, memoryLogger, offsetsOf, simpleBatch } from '../test/batch-fixtures';
import { PartitionLog } from './partition-log';
import { TopicConfig } from './topic-config';

const dirs: string[] = [];
const logs: PartitionLog[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-log-'));
  dirs.push(dir);
  return dir;
}

function open(dir: string, overrides: Record<string, string> = {}, follow = true): PartitionLog {
  const log = PartitionLog.open({
    dir,
    config: TopicConfig.resolve(overrides),
    logger: memoryLogger(),
    highWatermarkFollowsLogEnd: follow,
  });
  logs.push(log);
  return log;
}

afterEach(() => {
  for (const log of logs.splice(0)) {
    try {
      log.close();
    } catch {
      // already closed or offline: the test's concern
    }
  }
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const code = (c: number) => (err: unknown) => err instanceof KafkaProtocolError && err.code === c;

/** Reads everything from `from` to the log end, batch by batch. */
function readAll(log: PartitionLog, from = log.logStartOffset): Buffer[] {
  const out: Buffer[] = [];
  let offset = from;
  while (offset < log.logEndOffset) {
    const { records } = log.read(offset, 1 << 20, { minOneBatch: true });
    assert.ok(records.length > 0, `nothing read at ${offset}`);
    out.push(records);
    const last = offsetsOf(records).at(-1)!;
    offset = last[1] + 1;
  }
  return out;
}

test('append assigns offsets from the log end by rewriting headers, and read returns the stored bytes', () => {
  const log = open(tempDir());
  const two = Buffer.concat([simpleBatch(3), simpleBatch(2)]);
  const original = Buffer.from(two);
  const r1 = log.append(two, 7);
  assert.deepEqual(r1, {
    baseOffset: 0,
    lastOffset: 4,
    logAppendTime: -1,
    recordCount: 5,
    duplicate: false,
    txnMarkers: [],
  });
  const r2 = log.append(simpleBatch(4), 8);
  assert.equal(r2.baseOffset, 5);
  assert.equal(r2.lastOffset, 8);
  assert.equal(log.logEndOffset, 9);
  assert.equal(log.highWatermark, 9);
  assert.equal(log.logStartOffset, 0);

  const { records, logEndOffset, highWatermark, logStartOffset } = log.read(0, 1 << 20, {
    minOneBatch: true,
  });
  assert.deepEqual([logStartOffset, highWatermark, logEndOffset], [0, 9, 9]);
  assert.deepEqual(offsetsOf(records), [
    [0, 2],
    [3, 4],
    [5, 8],
  ]);
  // CRC still holds: only fields outside it were rewritten.
  validateProducedBatches(records);
  const headers = [...validateProducedBatches(records)];
  assert.deepEqual(
    headers.map((h) => h.partitionLeaderEpoch),
    [7, 7, 8],
  );
  // Apart from baseOffset (0..7) and partitionLeaderEpoch (12..15), the bytes are the producer's.
  const stored = records.subarray(0, original.length);
  for (const at of [0, 39]) {
    const len = new BatchHeader(original, at).sizeInBytes;
    assert.deepEqual(stored.subarray(at + 16, at + len), original.subarray(at + 16, at + len));
  }
  assert.equal(log.size, records.length);
});

test('read starts at the batch containing the fetch offset and respects maxBytes, maxOffset and minOneBatch', () => {
  const log = open(tempDir());
  for (let i = 0; i < 5; i++) log.append(simpleBatch(10), 0); // offsets 0..49
  const size = simpleBatch(10).length;

  assert.deepEqual(offsetsOf(log.read(25, 1 << 20, { minOneBatch: false }).records)[0], [20, 29]);
  // maxBytes cuts at whole batches.
  assert.deepEqual(offsetsOf(log.read(0, size * 2 + 5, { minOneBatch: false }).records), [
    [0, 9],
    [10, 19],
  ]);
  // KIP-74: a first batch larger than maxBytes comes whole only with minOneBatch.
  assert.equal(log.read(0, 10, { minOneBatch: false }).records.length, 0);
  assert.deepEqual(offsetsOf(log.read(0, 10, { minOneBatch: true }).records), [[0, 9]]);
  // maxOffset (the high watermark for consumers) is exclusive and never splits a batch.
  assert.deepEqual(offsetsOf(log.read(0, 1 << 20, { maxOffset: 30, minOneBatch: true }).records), [
    [0, 9],
    [10, 19],
    [20, 29],
  ]);
  assert.deepEqual(offsetsOf(log.read(0, 1 << 20, { maxOffset: 25, minOneBatch: true }).records), [
    [0, 9],
    [10, 19],
  ]);
  assert.equal(log.read(30, 1 << 20, { maxOffset: 30, minOneBatch: true }).records.length, 0);
  // At the log end: empty; past it or below the start: OFFSET_OUT_OF_RANGE.
  assert.equal(log.read(50, 1 << 20, { minOneBatch: true }).records.length, 0);
  assert.throws(() => log.read(51, 1 << 20, { minOneBatch: true }), code(ErrorCode.OFFSET_OUT_OF_RANGE));
  assert.throws(() => log.read(-1, 1 << 20, { minOneBatch: true }), code(ErrorCode.OFFSET_OUT_OF_RANGE));
});

test('max.message.bytes refuses a batch with MESSAGE_TOO_LARGE and appends nothing', () => {
  const log = open(tempDir(), { 'max.message.bytes': '200' });
  log.append(simpleBatch(1), 0);
  const small = simpleBatch(1);
  const big = simpleBatch(1, { valueBytes: 300 });
  assert.throws(
    () => log.append(Buffer.concat([small, big]), 0),
    (err: unknown) =>
      code(ErrorCode.MESSAGE_TOO_LARGE)(err) && /exceeds max.message.bytes 200/.test((err as Error).message),
  );
  assert.equal(log.logEndOffset, 1);
  assert.equal(log.size, small.length);
});

test('a set of batches larger than segment.bytes is RECORD_LIST_TOO_LARGE', () => {
  const log = open(tempDir(), { 'segment.bytes': '500' });
  const batches = Buffer.concat(Array.from({ length: 8 }, () => simpleBatch(1)));
  assert.ok(batches.length > 500);
  assert.throws(() => log.append(batches, 0), code(ErrorCode.RECORD_LIST_TOO_LARGE));
  assert.equal(log.logEndOffset, 0);
});

test('message.timestamp.type=LogAppendTime stamps maxTimestamp and the type bit and recomputes the CRC', () => {
  const log = open(tempDir(), { 'message.timestamp.type': 'LogAppendTime' });
  const before = Date.now();
  const r = log.append(simpleBatch(2, { timestamp: 1000 }), 0);
  assert.ok(r.logAppendTime >= before && r.logAppendTime <= Date.now());
  const [h] = validateProducedBatches(log.read(0, 1 << 20, { minOneBatch: true }).records);
  assert.equal(h.maxTimestamp, r.logAppendTime);
  assert.equal(h.baseTimestamp, 1000);
  assert.ok(h.attributes & ATTRIBUTE.TIMESTAMP_TYPE_LOG_APPEND);
  assert.ok(h.isCrcValid());
});

test('CreateTime leaves the CRC-covered bytes alone', () => {
  const log = open(tempDir());
  const batch = simpleBatch(2, { timestamp: 1000 });
  const crc = batch.readUInt32BE(17);
  log.append(batch, 0);
  const [h] = validateProducedBatches(log.read(0, 1 << 20, { minOneBatch: true }).records);
  assert.equal(h.crc, crc);
  assert.equal(h.maxTimestamp, 1000);
  assert.equal(h.attributes & ATTRIBUTE.TIMESTAMP_TYPE_LOG_APPEND, 0);
});

test('segments roll by segment.bytes, with 20-digit base-offset names, and reads cross them', () => {
  const dir = tempDir();
  const log = open(dir, { 'segment.bytes': '1000' });
  const size = simpleBatch(5).length;
  for (let i = 0; i < 20; i++) log.append(simpleBatch(5), 0);
  const perSegment = Math.floor(1000 / size);
  assert.equal(log.segmentBaseOffsets().length, Math.ceil(20 / perSegment));
  assert.equal(log.segmentBaseOffsets()[1], perSegment * 5);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.log'));
  assert.ok(files.includes('00000000000000000000.log'));
  assert.ok(files.includes(`${String(perSegment * 5).padStart(20, '0')}.log`));
  for (const f of files) assert.ok(fs.statSync(path.join(dir, f)).size <= 1000);
  const all = readAll(log).flatMap(offsetsOf);
  assert.equal(all.length, 20);
  all.forEach(([base], i) => assert.equal(base, i * 5));
});

test('segments roll by segment.ms, measured by record timestamps as in Kafka', () => {
  const log = open(tempDir(), { 'segment.ms': '1000' });
  const t = 1_700_000_000_000;
  log.append(simpleBatch(1, { timestamp: t }), 0);
  log.append(simpleBatch(1, { timestamp: t + 900 }), 0);
  assert.equal(log.segmentBaseOffsets().length, 1);
  log.append(simpleBatch(1, { timestamp: t + 1001 }), 0);
  assert.deepEqual(log.segmentBaseOffsets(), [0, 2]);
});

test('index lookups: reads from anywhere in a large log fetch the batch holding the offset, before and after reopening', () => {
  const dir = tempDir();
  let log = open(dir, { 'segment.bytes': String(4 * 1024 * 1024) });
  const counts: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const n = 1 + (i % 7);
    counts.push(n);
    log.append(simpleBatch(n, { valueBytes: 20 + (i % 50) }), 0);
  }
  const bounds: [number, number][] = [];
  let o = 0;
  for (const n of counts) {
    bounds.push([o, o + n - 1]);
    o += n;
  }
  assert.equal(log.logEndOffset, o);
  const check = (l: PartitionLog) => {
    for (let k = 0; k < 300; k++) {
      const target = Math.floor(Math.random() * o);
      const got = offsetsOf(l.read(target, 1, { minOneBatch: true }).records);
      assert.equal(got.length, 1);
      const [base, last] = got[0];
      assert.ok(base <= target && target <= last, `read(${target}) gave ${base}..${last}`);
      assert.ok(bounds.some(([b, e]) => b === base && e === last));
    }
  };
  check(log);
  assert.equal(log.segmentBaseOffsets().length, 1);
  const index = fs.statSync(path.join(dir, '00000000000000000000.index')).size;
  assert.ok(index > 0 && index % 8 === 0, `offset index of ${index} bytes`);
  assert.ok(index / 8 >= Math.floor((log.size / 4096) * 0.9), 'about one entry per 4096 bytes');
  assert.ok(index / 8 <= Math.ceil(log.size / 4096));
  assert.ok(fs.statSync(path.join(dir, '00000000000000000000.timeindex')).size % 12 === 0);
  log.close();
  log = open(dir);
  check(log);
  assert.equal(log.logEndOffset, o);
});

test('offsetForTimestamp finds the first batch whose max timestamp reaches the target', () => {
  const log = open(tempDir(), { 'segment.bytes': '1000', 'index.interval.bytes': '100' });
  const t0 = 1_700_000_000_000;
  for (let i = 0; i < 40; i++) log.append(simpleBatch(2, { timestamp: t0 + i * 1000 }), 0);
  assert.ok(log.segmentBaseOffsets().length > 2);
  assert.deepEqual(log.offsetForTimestamp(t0 + 10_000), { offset: 20, timestamp: t0 + 10_000 });
  assert.deepEqual(log.offsetForTimestamp(t0 + 10_500), { offset: 22, timestamp: t0 + 11_000 });
  assert.deepEqual(log.offsetForTimestamp(0), { offset: 0, timestamp: t0 });
  assert.deepEqual(log.offsetForTimestamp(t0 + 39_000), { offset: 78, timestamp: t0 + 39_000 });
  assert.equal(log.offsetForTimestamp(t0 + 39_001), null);
  // Never below the log start offset, even inside a batch.
  log.deleteRecordsBefore(31);
  assert.deepEqual(log.offsetForTimestamp(0), { offset: 31, timestamp: t0 + 15_000 });
});

test('deleteRecordsBefore moves logStartOffset, persists it, and deletes whole segments below it', () => {
  const dir = tempDir();
  let log = open(dir, { 'segment.bytes': '500' });
  for (let i = 0; i < 20; i++) log.append(simpleBatch(2), 0);
  const bases = log.segmentBaseOffsets();
  assert.ok(bases.length >= 4);
  const target = bases[2] + 1;
  assert.equal(log.deleteRecordsBefore(target), target);
  assert.equal(log.logStartOffset, target);
  assert.deepEqual(log.segmentBaseOffsets(), bases.slice(2));
  assert.ok(!fs.existsSync(path.join(dir, `${String(bases[0]).padStart(20, '0')}.log`)));
  assert.throws(() => log.read(target - 1, 1000, { minOneBatch: true }), code(ErrorCode.OFFSET_OUT_OF_RANGE));
  // The batch holding the start offset is still returned whole: the consumer skips below it.
  assert.equal(offsetsOf(log.read(target, 1000, { minOneBatch: true }).records)[0][0], target - 1);
  assert.throws(() => log.deleteRecordsBefore(41), code(ErrorCode.OFFSET_OUT_OF_RANGE));
  assert.equal(log.deleteRecordsBefore(5), target, 'never moves back');

  // Survives a crash (no close): it was checkpointed at once.
  for (const l of logs.splice(0)) l.closeForDeletion();
  log = open(dir, { 'segment.bytes': '500' });
  assert.equal(log.logStartOffset, target);
  // -1 means the high watermark: everything, including the active segment.
  assert.equal(log.deleteRecordsBefore(-1), 40);
  assert.equal(log.size, 0);
  assert.deepEqual(log.segmentBaseOffsets(), [40]);
  assert.equal(log.append(simpleBatch(1), 0).baseOffset, 40);
});

test('truncateTo removes batches from the offset on, across segments, and appends continue there', () => {
  const log = open(tempDir(), { 'segment.bytes': '400' });
  for (let i = 0; i < 20; i++) log.append(simpleBatch(3), 0); // batches at 0,3,6,...
  const bases = log.segmentBaseOffsets();
  assert.ok(bases.length >= 4);
  assert.equal(log.truncateTo(60), false);
  // A batch boundary in an early segment: later segments go.
  assert.equal(log.truncateTo(bases[1] + 3), true);
  assert.equal(log.logEndOffset, bases[1] + 3);
  assert.deepEqual(log.segmentBaseOffsets(), bases.slice(0, 2));
  // Mid-batch: the straddling batch goes whole.
  log.truncateTo(bases[1] + 1);
  assert.equal(log.logEndOffset, bases[1]);
  assert.equal(log.highWatermark, bases[1]);
  assert.equal(log.append(simpleBatch(2), 0).baseOffset, bases[1]);
  assert.deepEqual(readAll(log).flatMap(offsetsOf).at(-1), [bases[1], bases[1] + 1]);
  // Below the first segment: the log restarts there.
  log.deleteRecordsBefore(bases[1]);
  log.truncateTo(2);
  assert.deepEqual([log.logStartOffset, log.logEndOffset, log.size], [2, 2, 0]);
});

test('appendAsFollower keeps offsets, allows gaps, refuses going back, and drops a partial trailing batch', () => {
  const log = open(tempDir());
  const at = (base: number, n: number) => simpleBatch(n, { baseOffset: base });
  // An empty log starts where the leader's (or source's) batches start.
  const r = log.appendAsFollower(Buffer.concat([at(100, 2), at(102, 3)]));
  assert.deepEqual(r, {
    baseOffset: 100,
    lastOffset: 104,
    logAppendTime: -1,
    recordCount: 5,
    duplicate: false,
    txnMarkers: [],
  });
  assert.equal(log.logStartOffset, 100);
  log.appendAsFollower(at(110, 1)); // a gap (compacted or deleted at the source)
  assert.equal(log.logEndOffset, 111);
  assert.deepEqual(offsetsOf(log.read(105, 1 << 20, { minOneBatch: true }).records), [[110, 110]]);
  assert.throws(() => log.appendAsFollower(at(110, 1)), code(ErrorCode.OFFSET_OUT_OF_RANGE));
  const next = at(111, 2);
  const partial = Buffer.concat([next, at(113, 2).subarray(0, 30)]);
  assert.equal(log.appendAsFollower(partial).lastOffset, 112);
  assert.equal(log.logEndOffset, 113);
  const bad = at(113, 1);
  bad[bad.length - 1] ^= 1;
  assert.throws(() => log.appendAsFollower(bad), code(ErrorCode.CORRUPT_MESSAGE));
  assert.equal(log.logEndOffset, 113);
});

test('the high watermark follows the log end by default; set explicitly it is checkpointed and restored', () => {
  const dir = tempDir();
  let log = open(dir, {}, false);
  log.append(simpleBatch(5), 0);
  assert.equal(log.highWatermark, 0);
  assert.equal(log.setHighWatermark(3), 3);
  assert.equal(log.setHighWatermark(99), 5, 'kept within the log end');
  log.setHighWatermark(4);
  assert.deepEqual(
    offsetsOf(log.read(0, 1 << 20, { maxOffset: log.highWatermark, minOneBatch: true }).records),
    [],
  );
  log.close();
  log = open(dir, {}, false);
  assert.equal(log.highWatermark, 4);
  log.checkpoint();
  assert.match(fs.readFileSync(path.join(dir, 'offsets.checkpoint'), 'utf8'), /high-watermark 4/);
});

test('flush.messages fsyncs after that many records and advances the recovery point', () => {
  const log = open(tempDir(), { 'flush.messages': '3' });
  log.append(simpleBatch(2), 0);
  assert.equal(log.recoveryPoint, 0);
  log.append(simpleBatch(2), 0);
  assert.equal(log.recoveryPoint, 4);
  const timed = open(tempDir(), { 'flush.ms': '0' });
  timed.append(simpleBatch(1), 0);
  assert.equal(timed.recoveryPoint, 1);
});

test('a closed log refuses work with KAFKA_STORAGE_ERROR', () => {
  const log = open(tempDir());
  log.close();
  assert.throws(() => log.append(simpleBatch(1), 0), code(ErrorCode.KAFKA_STORAGE_ERROR));
  assert.throws(() => log.read(0, 100, { minOneBatch: true }), code(ErrorCode.KAFKA_STORAGE_ERROR));
});

test('offsetForTimestamp decodes the one batch it lands in for the exact record', () => {
  const log = open(tempDir());
  const t = 1_700_000_000_000;
  log.append(
    encodeBatch({
      records: [
        { value: 'a', timestamp: t },
        { value: 'b', timestamp: t + 50 },
      ],
    }),
    0,
  );
  log.append(encodeBatch({ records: [{ value: 'c', timestamp: t + 100 }] }), 0);
  // Only that batch is decoded, for the exact record.
  assert.deepEqual(log.offsetForTimestamp(t + 1), { offset: 1, timestamp: t + 50 });
  assert.deepEqual(log.offsetForTimestamp(t + 50), { offset: 1, timestamp: t + 50 });
  assert.deepEqual(log.offsetForTimestamp(t), { offset: 0, timestamp: t });
  assert.deepEqual(log.offsetForTimestamp(t + 51), { offset: 2, timestamp: t + 100 });
  // Out-of-order timestamps inside a batch: the first record reaching the target wins.
  log.append(
    encodeBatch({
      records: [
        { value: 'd', timestamp: t + 300 },
        { value: 'e', timestamp: t + 200 },
      ],
    }),
    0,
  );
  assert.deepEqual(log.offsetForTimestamp(t + 150), { offset: 3, timestamp: t + 300 });
});

test('offsetOfMaxTimestamp finds the record with the largest timestamp, across segments and from logStartOffset', () => {
  const log = open(tempDir(), { 'segment.bytes': '300' });
  assert.equal(log.offsetOfMaxTimestamp(), null);
  const t = 1_700_000_000_000;
  log.append(
    encodeBatch({
      records: [
        { value: 'a', timestamp: t + 10 },
        { value: 'b', timestamp: t + 900 },
      ],
    }),
    0,
  );
  for (let i = 0; i < 6; i++) log.append(simpleBatch(2, { timestamp: t + i }), 0);
  log.append(encodeBatch({ records: [{ value: 'c', timestamp: t + 900 }] }), 0); // a tie comes later
  assert.ok(log.segmentBaseOffsets().length > 2);
  assert.deepEqual(log.offsetOfMaxTimestamp(), { offset: 1, timestamp: t + 900 });
  log.deleteRecordsBefore(1);
  assert.deepEqual(log.offsetOfMaxTimestamp(), { offset: 1, timestamp: t + 900 });
  log.deleteRecordsBefore(2);
  assert.deepEqual(log.offsetOfMaxTimestamp(), { offset: 14, timestamp: t + 900 });
});

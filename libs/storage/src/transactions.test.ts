import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import { crc32c } from '@node-rs/crc32';
import {
  ATTRIBUTE,
  BatchHeader,
  decodeRecordBatches,
  encodeTxnMarkerBatch,
  ErrorCode,
  KafkaProtocolError,
} from '@tributary/protocol';
import { encodeBatch, memoryLogger } from '../test/batch-fixtures';
import { LogCleaner } from './log-cleaner';
import { PartitionLog } from './partition-log';
import { NO_VERIFICATION_GUARD } from './producer-state';
import { TopicConfig } from './topic-config';

const dirs: string[] = [];
const logs: PartitionLog[] = [];
const A = 7001;
const B = 7002;
const SEGMENT_0 = '00000000000000000000';

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-txn-'));
  dirs.push(dir);
  return dir;
}

function open(
  dir: string,
  overrides: Record<string, string> = {},
  highWatermarkFollowsLogEnd = true,
): { log: PartitionLog; logger: ReturnType<typeof memoryLogger> } {
  const logger = memoryLogger();
  const log = PartitionLog.open({
    dir,
    config: TopicConfig.resolve(overrides),
    logger,
    highWatermarkFollowsLogEnd,
  });
  logs.push(log);
  return { log, logger };
}

/** Leaves the log as a crash would: no flush, no snapshot, no clean-shutdown marker. */
function crash(log: PartitionLog): void {
  log.closeForDeletion();
}

afterEach(() => {
  for (const log of logs.splice(0)) {
    try {
      log.close();
    } catch {
      // closed by the test
    }
  }
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Sequence numbers per producer, so each test's batches follow on. */
const sequences = new Map<number, number>();

/** A batch of `keys` from producer `pid`: transactional unless told otherwise. */
function batch(
  pid: number,
  keys: string[],
  options: { transactional?: boolean; epoch?: number } = {},
): Buffer {
  const seq = sequences.get(pid) ?? 0;
  sequences.set(pid, seq + keys.length);
  return encodeBatch({
    records: keys.map((k) => ({ key: k, value: `${k}@${pid}` })),
    producerId: pid,
    producerEpoch: options.epoch ?? 0,
    baseSequence: seq,
    attributes: options.transactional === false ? 0 : ATTRIBUTE.TRANSACTIONAL,
  });
}

function plain(keys: string[]): Buffer {
  return encodeBatch({ records: keys.map((k) => ({ key: k, value: k })) });
}

const marker = (pid: number, committed: boolean, epoch = 0, coordinatorEpoch = 0) => ({
  producerId: pid,
  producerEpoch: epoch,
  coordinatorEpoch,
  committed,
});

const rejects = (code: number, pattern?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof KafkaProtocolError, String(err));
  assert.equal(err.code, code, err.message);
  if (pattern) assert.match(err.message, pattern);
  return true;
};

/** Every record value from `from`, control batches left out, as a read_uncommitted consumer sees them. */
function values(log: PartitionLog, from = log.logStartOffset): string[] {
  const out: string[] = [];
  for (const b of decodeRecordBatches(log.read(from, 1 << 20, { minOneBatch: true }).records)) {
    if (b.header.isControl) continue;
    for (const r of b.records) out.push(r.value?.toString() ?? 'null');
  }
  return out;
}

/** What a read_committed consumer sees: records below the LSO, aborted transactions dropped (Kafka's consumer logic). */
function committedValues(log: PartitionLog, from = log.logStartOffset): string[] {
  const { records } = log.read(from, 1 << 20, { minOneBatch: true, maxOffset: log.lastStableOffset });
  const aborted = log.abortedTransactions(from, records);
  const out: string[] = [];
  for (const b of decodeRecordBatches(records)) {
    const h = b.header;
    if (h.isControl) continue;
    const skip =
      h.isTransactional &&
      aborted.some(
        (t) => t.producerId === h.producerId && t.firstOffset <= h.baseOffset && h.baseOffset <= t.lastOffset,
      );
    if (!skip) for (const r of b.records) out.push(r.value?.toString() ?? 'null');
  }
  return out;
}

function txnIndexFile(dir: string, base = SEGMENT_0): Buffer | null {
  const file = path.join(dir, `${base}.txnindex`);
  return fs.existsSync(file) ? fs.readFileSync(file) : null;
}

test('an open transaction holds the last stable offset at its first record; its marker releases it', () => {
  const dir = tempDir();
  const { log } = open(dir);
  log.append(plain(['a', 'b']), 0);
  assert.equal(log.lastStableOffset, 2, 'no transaction: the LSO is the high watermark');
  log.append(batch(A, ['t1', 't2']), 0);
  log.append(plain(['c']), 0);
  assert.equal(log.highWatermark, 5);
  assert.equal(log.lastStableOffset, 2, 'held at the open transaction');
  assert.equal(log.producerState(A)?.currentTxnFirstOffset, 2);
  assert.deepEqual(log.openTransactions(), [[A, 2]]);
  assert.deepEqual(committedValues(log), ['a', 'b']);

  const appended = log.appendTxnMarker(marker(A, true, 0, 3), 0);
  assert.equal(appended.baseOffset, 5);
  assert.deepEqual(appended.txnMarkers, [{ producerId: A, producerEpoch: 0, committed: true, offset: 5 }]);
  assert.equal(log.lastStableOffset, 6);
  assert.equal(log.producerState(A)?.currentTxnFirstOffset, -1);
  assert.equal(log.producerState(A)?.coordinatorEpoch, 3);
  assert.deepEqual(committedValues(log), ['a', 'b', 't1@7001', 't2@7001', 'c']);
  assert.equal(txnIndexFile(dir), null, 'a commit writes no transaction index');
});

test('interleaved transactions: the LSO is the earliest open one; an abort is indexed in Kafka format with the LSO it leaves', () => {
  const dir = tempDir();
  const { log } = open(dir);
  log.append(batch(A, ['a1']), 0); // 0
  log.append(batch(B, ['b1']), 0); // 1
  log.append(batch(A, ['a2']), 0); // 2
  assert.equal(log.lastStableOffset, 0);
  log.appendTxnMarker(marker(A, false), 0); // 3: abort A while B is open
  assert.equal(log.lastStableOffset, 1, 'B still holds it');
  log.append(batch(B, ['b2']), 0); // 4
  log.appendTxnMarker(marker(B, true), 0); // 5
  assert.equal(log.lastStableOffset, 6);

  // version 0 | producerId | firstOffset 0 | lastOffset 3 | lastStableOffset 1 (B was open)
  const expected = Buffer.alloc(34);
  expected.writeInt16BE(0, 0);
  expected.writeBigInt64BE(BigInt(A), 2);
  expected.writeBigInt64BE(0n, 10);
  expected.writeBigInt64BE(3n, 18);
  expected.writeBigInt64BE(1n, 26);
  assert.deepEqual(txnIndexFile(dir), expected);

  const all = log.read(0, 1 << 20, { minOneBatch: true }).records;
  assert.deepEqual(log.abortedTransactions(0, all), [
    { producerId: A, firstOffset: 0, lastOffset: 3, lastStableOffset: 1 },
  ]);
  assert.deepEqual(log.abortedTransactions(4, log.read(4, 1 << 20, { minOneBatch: true }).records), []);
  assert.deepEqual(committedValues(log), ['b1@7002', 'b2@7002']);
  assert.deepEqual(values(log), ['a1@7001', 'b1@7002', 'a2@7001', 'b2@7002']);
});

test('a transactional producer: INVALID_TXN_STATE for a plain batch mid-transaction, fenced epochs and coordinators', () => {
  const { log } = open(tempDir());
  log.append(batch(A, ['x']), 0);
  assert.throws(
    () => log.append(batch(A, ['y'], { transactional: false }), 0),
    rejects(ErrorCode.INVALID_TXN_STATE, /Expected transactional write/),
  );
  sequences.set(A, 1);
  // The coordinator fenced the producer (epoch 1) and aborted its transaction.
  log.appendTxnMarker(marker(A, false, 1, 5), 0);
  assert.equal(log.producerState(A)?.epoch, 1);
  assert.throws(
    () => log.append(batch(A, ['z'], { epoch: 0 }), 0),
    rejects(ErrorCode.INVALID_PRODUCER_EPOCH),
  );
  assert.throws(
    () => log.appendTxnMarker(marker(A, true, 0, 5), 0),
    rejects(ErrorCode.INVALID_PRODUCER_EPOCH),
    'a marker of the fenced epoch',
  );
  assert.throws(
    () => log.appendTxnMarker(marker(A, true, 1, 4), 0),
    rejects(ErrorCode.TRANSACTION_COORDINATOR_FENCED, /4 \(zombie\), 5 \(current\)/),
  );
  assert.equal(log.logEndOffset, 2, 'nothing refused was appended');
  // The new epoch starts at sequence 0 and a new transaction.
  sequences.set(A, 0);
  log.append(batch(A, ['w'], { epoch: 1 }), 0);
  assert.deepEqual(log.openTransactions(), [[A, 2]]);
});

test('KIP-890 verification: a transaction opens only with the guard handed out before the coordinator was asked', () => {
  const { log } = open(tempDir());
  assert.throws(
    () => log.append(batch(A, ['x']), 0, NO_VERIFICATION_GUARD),
    rejects(ErrorCode.INVALID_TXN_STATE, /not part of an ongoing transaction/),
  );
  sequences.set(A, 0);
  const guard = log.maybeStartTransactionVerification(A, 0);
  assert.notEqual(guard, NO_VERIFICATION_GUARD);
  // A marker lands while the coordinator is being asked: the late answer opens nothing.
  log.appendTxnMarker(marker(A, false), 0);
  assert.throws(() => log.append(batch(A, ['x']), 0, guard), rejects(ErrorCode.INVALID_TXN_STATE));
  sequences.set(A, 0);
  const fresh = log.maybeStartTransactionVerification(A, 0);
  log.append(batch(A, ['x']), 0, fresh);
  assert.equal(
    log.maybeStartTransactionVerification(A, 0),
    NO_VERIFICATION_GUARD,
    'open here: nothing to verify',
  );
  log.append(batch(A, ['y']), 0, NO_VERIFICATION_GUARD);
  assert.deepEqual(log.openTransactions(), [[A, 1]]);
});

test('with replication deciding the high watermark, a finished transaction holds the LSO until the HW passes its marker', () => {
  const { log } = open(tempDir(), {}, false);
  log.append(batch(A, ['a', 'b']), 0);
  log.setHighWatermark(2);
  assert.equal(log.lastStableOffset, 0);
  log.appendTxnMarker(marker(A, false), 0);
  assert.equal(log.lastStableOffset, 0, 'the marker is not replicated yet');
  log.setHighWatermark(3);
  assert.equal(log.lastStableOffset, 3);
  log.append(plain(['c']), 0);
  assert.equal(log.lastStableOffset, 3, 'bounded by the high watermark');
  log.setHighWatermark(4);
  assert.equal(log.lastStableOffset, 4);
});

test('a follower learns transactions from the batches it copies, markers included', () => {
  const leader = open(tempDir()).log;
  const follower = open(tempDir(), {}, false).log;
  leader.append(batch(A, ['a']), 0);
  leader.append(batch(B, ['b']), 0);
  leader.appendTxnMarker(marker(A, false), 0);
  leader.appendTxnMarker(marker(B, true), 0);
  const copied = follower.appendAsFollower(leader.read(0, 1 << 20, { minOneBatch: true }).records);
  assert.deepEqual(copied.txnMarkers, [
    { producerId: A, producerEpoch: 0, committed: false, offset: 2 },
    { producerId: B, producerEpoch: 0, committed: true, offset: 3 },
  ]);
  assert.equal(follower.lastStableOffset, 0, 'nothing is stable above the follower high watermark');
  follower.setHighWatermark(4);
  assert.equal(follower.lastStableOffset, 4);
  assert.deepEqual(
    follower.collectAbortedTransactions(0, 4),
    leader.collectAbortedTransactions(0, 4),
    'the same aborted index',
  );
  assert.deepEqual(committedValues(follower), ['b@7002']);
});

test('open transactions and coordinator epochs survive a clean restart and a crash', () => {
  for (const how of ['close', 'crash'] as const) {
    sequences.clear();
    const dir = tempDir();
    let { log } = open(dir, { 'segment.bytes': '300' });
    log.append(batch(A, ['a1']), 0);
    for (let i = 0; i < 4; i++) log.append(plain([`p${i}`]), 0);
    log.appendTxnMarker(marker(B, false, 0, 9), 0);
    log.append(batch(B, ['b1']), 0);
    assert.ok(log.segmentBaseOffsets().length > 1, 'snapshots were taken at rolls');
    const lso = log.lastStableOffset;
    if (how === 'close') log.close();
    else crash(log);
    ({ log } = open(dir, { 'segment.bytes': '300' }));
    assert.deepEqual(
      log.openTransactions(),
      [
        [A, 0],
        [B, 6],
      ],
      how,
    );
    assert.equal(log.lastStableOffset, lso, how);
    assert.equal(log.producerState(B)?.coordinatorEpoch, 9, how);
    log.appendTxnMarker(marker(A, true), 0);
    assert.equal(log.lastStableOffset, 6, `${how}: B still open`);
  }
});

test('a version 1 producer snapshot (before transactions) is still read', () => {
  const dir = tempDir();
  let { log } = open(dir);
  sequences.clear();
  log.append(batch(A, ['x', 'y'], { transactional: false }), 0);
  log.close();
  // version 1: one producer, epoch 0, one batch (seq 0-1, offsets 0-1), no transaction fields
  const v1 = Buffer.alloc(10 + 19 + 32);
  v1.writeInt16BE(1, 0);
  v1.writeInt32BE(1, 6);
  v1.writeBigInt64BE(BigInt(A), 10);
  v1.writeInt16BE(0, 18);
  v1.writeBigInt64BE(BigInt(Date.now()), 20);
  v1.writeInt8(1, 28);
  v1.writeInt32BE(0, 29);
  v1.writeInt32BE(1, 33);
  v1.writeBigInt64BE(0n, 37);
  v1.writeBigInt64BE(1n, 45);
  v1.writeBigInt64BE(BigInt(Date.now()), 53);
  v1.writeUInt32BE(crc32c(v1.subarray(6)) >>> 0, 2);
  fs.writeFileSync(path.join(dir, '00000000000000000002.snapshot'), v1);
  ({ log } = open(dir));
  assert.deepEqual(log.producerState(A), {
    producerId: A,
    epoch: 0,
    lastTimestamp: log.producerState(A)!.lastTimestamp,
    batches: [
      {
        firstSeq: 0,
        lastSeq: 1,
        firstOffset: 0,
        lastOffset: 1,
        timestamp: log.producerState(A)!.batches[0].timestamp,
      },
    ],
    coordinatorEpoch: -1,
    currentTxnFirstOffset: -1,
  });
  assert.equal(log.append(batch(A, ['x', 'y'], { transactional: false }), 0).baseOffset, 2);
});

test('a crash mid-transaction: the damaged aborted index is rebuilt, the open transaction stays open, a torn marker reopens its transaction', () => {
  const dir = tempDir();
  let { log } = open(dir);
  log.append(batch(A, ['a1', 'a2']), 0); // 0-1
  log.append(batch(B, ['b1']), 0); // 2
  log.appendTxnMarker(marker(A, false), 0); // 3
  log.append(batch(A, ['a3']), 0); // 4: A's next transaction
  const index = txnIndexFile(dir);
  assert.equal(index?.length, 34);
  log.appendTxnMarker(marker(A, true), 0); // 5: its commit
  crash(log);
  // A torn write: half of the commit marker's batch is gone, and garbage followed the index entry.
  const logFile = path.join(dir, `${SEGMENT_0}.log`);
  fs.truncateSync(logFile, fs.statSync(logFile).size - 10);
  fs.appendFileSync(path.join(dir, `${SEGMENT_0}.txnindex`), Buffer.from([1, 2, 3]));

  const reopened = open(dir);
  log = reopened.log;
  const logger = reopened.logger;
  assert.equal(log.logEndOffset, 5, 'the torn marker is cut');
  assert.deepEqual(txnIndexFile(dir), index, 'the index is rebuilt exactly');
  assert.deepEqual(log.openTransactions(), [
    [B, 2],
    [A, 4],
  ]);
  assert.equal(log.lastStableOffset, 2);
  assert.ok(
    logger.lines.some((l) => /truncated segment 0/.test(l)),
    logger.lines.join('\n'),
  );
  log.appendTxnMarker(marker(B, true), 0); // 5
  log.appendTxnMarker(marker(A, false), 0); // 6
  assert.equal(log.lastStableOffset, 7);
  assert.deepEqual(committedValues(log), ['b1@7002']);
  assert.deepEqual(
    log.collectAbortedTransactions(0, 7).map((t) => [t.firstOffset, t.lastOffset, t.lastStableOffset]),
    [
      [0, 3, 2],
      [4, 6, 7],
    ],
  );
});

test('truncation of a diverged follower cuts the aborted index and reopens transactions whose marker went', () => {
  const dir = tempDir();
  const { log } = open(dir, {}, false);
  log.append(batch(A, ['a']), 0); // 0
  log.appendTxnMarker(marker(A, false), 0); // 1
  log.append(batch(B, ['b']), 0); // 2
  log.appendTxnMarker(marker(B, false), 0); // 3
  log.setHighWatermark(4);
  assert.equal(txnIndexFile(dir)?.length, 68);
  log.truncateTo(3);
  assert.equal(txnIndexFile(dir)?.length, 34, "B's abort left the index");
  assert.deepEqual(log.openTransactions(), [[B, 2]]);
  assert.equal(log.lastStableOffset, 2);
  log.truncateTo(1);
  assert.equal(txnIndexFile(dir), null);
  assert.deepEqual(log.openTransactions(), [[A, 0]]);
});

test('retention deletes a segment with its transaction index; the LSO never falls below the log start', () => {
  const dir = tempDir();
  const config = { 'segment.bytes': '250', 'retention.bytes': '0' };
  const { log } = open(dir, config);
  log.append(batch(A, ['a1']), 0); // 0
  log.appendTxnMarker(marker(A, false), 0); // 1
  log.append(batch(B, ['b1']), 0); // 2: stays open
  for (let i = 0; i < 4; i++) log.append(plain([`p${i}`]), 0);
  const first = log.segmentBaseOffsets()[0];
  assert.ok(txnIndexFile(dir, String(first).padStart(20, '0')) !== null);
  assert.ok(log.deleteOldSegments() > 0);
  assert.equal(txnIndexFile(dir, SEGMENT_0), null, 'gone with its segment');
  assert.ok(log.logStartOffset > 2);
  assert.equal(log.lastStableOffset, log.logStartOffset, 'B is still open, but its start is gone');
  assert.deepEqual(log.collectAbortedTransactions(log.logStartOffset, log.logEndOffset), []);
});

test('compaction: aborted records neither hide committed values nor survive; markers and index entries stay', () => {
  const dir = tempDir();
  const config = { 'cleanup.policy': 'compact', 'segment.bytes': '400', 'min.cleanable.dirty.ratio': '0.01' };
  const { log } = open(dir, config);
  log.append(plain(['k1', 'k2']), 0); // 0-1 committed values k1, k2 (non-transactional)
  log.append(batch(A, ['k1']), 0); // 2: aborted write of k1
  log.append(batch(B, ['k2']), 0); // 3: committed write of k2
  log.appendTxnMarker(marker(A, false), 0); // 4
  log.appendTxnMarker(marker(B, true), 0); // 5
  for (let i = 0; i < 8; i++) log.append(plain([`f${i}`]), 0);
  const before = log.collectAbortedTransactions(0, log.logEndOffset);
  assert.equal(before.length, 1);
  const cleaner = new LogCleaner({ logs: () => [log], logger: memoryLogger() });
  const stats = cleaner.cleanUntilIdle();
  assert.ok(stats.length > 0, 'cleaned');
  assert.equal(stats[0].abortedRecordsRemoved, 1);
  const kept = values(log, 0);
  assert.ok(kept.includes('k1'), "the committed k1 survives the aborted write's key");
  assert.ok(!kept.includes('k1@7001'), 'the aborted record is gone');
  assert.ok(kept.includes('k2@7002') && !kept.includes('k2'), 'the committed transaction replaced k2');
  assert.deepEqual(log.collectAbortedTransactions(0, log.logEndOffset), before, 'the index entry stays');
  const markers = decodeRecordBatches(log.read(0, 1 << 20, { minOneBatch: true }).records)
    .filter((b) => b.header.isControl)
    .map((b) => b.header.baseOffset);
  assert.deepEqual(markers, [4, 5]);
});

test('a cleaning swap interrupted by a crash: the swapped-in segment gets its transaction index back', () => {
  sequences.clear();
  const config = {
    'cleanup.policy': 'compact',
    'segment.bytes': '400',
    'min.cleanable.dirty.ratio': '0.01',
  };
  const before = tempDir();
  let { log } = open(before, config);
  log.append(plain(['k1']), 0);
  log.append(batch(A, ['k1']), 0);
  log.appendTxnMarker(marker(A, false), 0);
  for (let i = 0; i < 10; i++) log.append(plain([`f${i}`]), 0);
  const aborted = log.collectAbortedTransactions(0, log.logEndOffset);
  log.close();
  // The cleaned segment, made in a copy with one group for every inactive segment.
  const after = tempDir();
  fs.cpSync(before, after, { recursive: true });
  ({ log } = open(after, config));
  log.updateConfig(TopicConfig.resolve({ ...config, 'segment.bytes': '1000000' }));
  assert.ok(new LogCleaner({ logs: () => [log], logger: memoryLogger() }).cleanUntilIdle().length > 0);
  log.close();
  // A crash right after the swap's commit: the cleaned files are .swap, the old segments untouched.
  const crashed = tempDir();
  fs.cpSync(before, crashed, { recursive: true });
  fs.rmSync(path.join(crashed, '.clean-shutdown'));
  for (const suffix of ['.log', '.index', '.timeindex', '.txnindex']) {
    const file = path.join(after, `${SEGMENT_0}${suffix}`);
    if (fs.existsSync(file)) fs.copyFileSync(file, path.join(crashed, `${SEGMENT_0}${suffix}.swap`));
  }
  const reopened = open(crashed, config);
  assert.ok(
    reopened.logger.lines.some((l) => /completed the swap/.test(l)),
    reopened.logger.lines.join('\n'),
  );
  assert.deepEqual(reopened.log.collectAbortedTransactions(0, reopened.log.logEndOffset), aborted);
  assert.deepEqual(txnIndexFile(crashed), txnIndexFile(after));
  assert.deepEqual(values(reopened.log, 0).slice(0, 1), ['k1'], 'the cleaned log is the one in place');
});

test('compaction stops at the first unstable offset: an open transaction is never cleaned', () => {
  const { log } = open(tempDir(), {
    'cleanup.policy': 'compact',
    'segment.bytes': '300',
    'min.cleanable.dirty.ratio': '0.01',
  });
  log.append(plain(['k']), 0); // 0
  log.append(batch(A, ['k']), 0); // 1: open
  for (let i = 0; i < 8; i++) log.append(plain(['k']), 0);
  const cleaner = new LogCleaner({ logs: () => [log], logger: memoryLogger() });
  for (const s of cleaner.cleanUntilIdle()) assert.ok(s.endOffset <= 1, `cleaned below ${s.endOffset}`);
  assert.deepEqual(
    values(log, 0).slice(0, 2),
    ['k', 'k@7001'],
    'nothing from the open transaction on was touched',
  );
});

test('a marker batch carries Kafka’s control record and is never compressed or sequenced', () => {
  const buf = encodeTxnMarkerBatch({
    producerId: A,
    producerEpoch: 2,
    coordinatorEpoch: 4,
    committed: false,
  });
  const h = new BatchHeader(buf);
  assert.equal(h.isControl, true);
  assert.equal(h.isTransactional, true);
  assert.equal(h.baseSequence, -1);
  assert.equal(h.compression, 0);
  assert.equal(h.producerEpoch, 2);
});

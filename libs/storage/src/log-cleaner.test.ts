import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import {
  batchHeaders,
  CompressionType,
  decodeRecordBatches,
  encodeRecordBatch,
  ErrorCode,
} from '@tributary/protocol';
import { encodeBatch, memoryLogger } from '../test/batch-fixtures';
import { LogCleaner, type CleanerStats } from './log-cleaner';
import { PartitionLog, RecordValidationError } from './partition-log';
import { TopicConfig } from './topic-config';

const dirs: string[] = [];
const logs: PartitionLog[] = [];
const T0 = 1_700_000_000_000;
const DAY = 86_400_000;

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-cleaner-'));
  dirs.push(dir);
  return dir;
}

const COMPACT = { 'cleanup.policy': 'compact', 'segment.bytes': '1024', 'min.cleanable.dirty.ratio': '0.01' };

function open(dir: string, overrides: Record<string, string> = COMPACT): PartitionLog {
  const log = PartitionLog.open({ dir, config: TopicConfig.resolve(overrides), logger: memoryLogger() });
  logs.push(log);
  return log;
}

function close(log: PartitionLog): void {
  log.close();
  logs.splice(logs.indexOf(log), 1);
}

function cleanerFor(...cleaned: PartitionLog[]): LogCleaner {
  return new LogCleaner({ logs: () => cleaned, logger: memoryLogger() });
}

afterEach(() => {
  for (const log of logs.splice(0)) log.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

interface Row {
  offset: number;
  key: string | null;
  value: string | null;
}

/** Every record from logStartOffset to the log end, as a consumer reads them. */
function readAll(log: PartitionLog): Row[] {
  const rows: Row[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const { records } = log.read(offset, 1 << 20, { minOneBatch: true });
    const batches = decodeRecordBatches(records);
    assert.ok(batches.length > 0, `a read at ${offset} returns something`);
    for (const b of batches) {
      for (const r of b.records) {
        if (r.offset >= offset) {
          rows.push({ offset: r.offset, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null });
        }
      }
      offset = b.header.lastOffset + 1;
    }
  }
  return rows;
}

/** Appends `rows` (key, value) in batches of `perBatch`, returning what was written at each offset. */
function write(
  log: PartitionLog,
  rows: [string, string | null][],
  perBatch = 2,
  timestamp = T0,
  compression = CompressionType.None,
): Row[] {
  const written: Row[] = [];
  for (let i = 0; i < rows.length; i += perBatch) {
    const slice = rows.slice(i, i + perBatch);
    const batch = encodeRecordBatch({
      records: slice.map(([k, v]) => ({
        key: Buffer.from(k),
        value: v === null ? null : Buffer.from(v),
        timestamp,
      })),
      compression,
    });
    const { baseOffset } = log.append(batch, 0);
    slice.forEach(([k, v], j) => written.push({ offset: baseOffset + j, key: k, value: v }));
  }
  return written;
}

/** What compaction must leave below `end`: the newest row of each key; from `end` on, everything. */
function expectedAfterCleaning(written: Row[], end: number): Row[] {
  const newest = new Map<string | null, number>();
  for (const r of written) if (r.offset < end) newest.set(r.key, r.offset);
  return written.filter((r) => r.offset >= end || newest.get(r.key) === r.offset);
}

function rolledTo(log: PartitionLog, count: number): void {
  let i = 0;
  while (log.segmentBaseOffsets().length < count) {
    log.append(
      encodeBatch({ records: [{ key: `filler-${i++}`, value: 'x'.repeat(100) }], timestamp: T0 }),
      0,
    );
  }
}

test('compaction keeps the newest value of each key across segment rolls and never moves an offset', () => {
  const log = open(tempDir());
  const rows: [string, string][] = Array.from({ length: 300 }, (_, i) => [`k${i % 13}`, `v${i}`]);
  const written = [
    ...write(log, rows.slice(0, 150)),
    ...write(log, rows.slice(150), 3, T0, CompressionType.Gzip),
  ];
  const segmentsBefore = log.segmentBaseOffsets();
  assert.ok(segmentsBefore.length > 8, `${segmentsBefore.length} segments`);
  const activeBase = segmentsBefore[segmentsBefore.length - 1];
  const sizeBefore = log.size;

  const [stats] = cleanerFor(log).cleanUntilIdle(T0 + 1000);
  assert.equal(stats.endOffset, activeBase, 'the map covers everything below the active segment');
  assert.equal(stats.firstDirtyOffset, 0);
  const after = readAll(log);
  assert.deepEqual(after, expectedAfterCleaning(written, activeBase));
  // A consumer from 0 sees increasing offsets with gaps, each record at its original offset.
  for (let i = 1; i < after.length; i++) assert.ok(after[i].offset > after[i - 1].offset);
  const byOffset = new Map(written.map((r) => [r.offset, r]));
  for (const r of after) assert.deepEqual(r, byOffset.get(r.offset));
  // Every key's newest value is there.
  for (let k = 0; k < 13; k++) {
    const last = [...written].reverse().find((r) => r.key === `k${k}`)!;
    assert.ok(
      after.some((r) => r.offset === last.offset && r.value === last.value),
      `k${k}`,
    );
  }
  assert.equal(log.logEndOffset, written[written.length - 1].offset + 1, 'the log end does not move');
  assert.ok(log.size < sizeBefore / 3, `${sizeBefore} -> ${log.size} bytes`);
  assert.equal(stats.recordsRemoved, written.length - after.length);
  // Re-encoded batches keep their codec and their last offset.
  const headers = [
    ...batchHeaders(log.read(after[after.length - 1].offset, 1 << 20, { minOneBatch: true }).records),
  ];
  assert.ok(headers.some((h) => h.compression === CompressionType.Gzip));

  // A second pass over a clean log finds nothing to do; new writes make it dirty again.
  assert.deepEqual(cleanerFor(log).cleanUntilIdle(T0 + 2000), []);
  const more = write(
    log,
    Array.from({ length: 60 }, (_, i) => [`k${i % 13}`, `w${i}`]),
  );
  rolledTo(log, log.segmentBaseOffsets().length + 1);
  const everything = [...written, ...more];
  const cleaner = cleanerFor(log);
  const [second] = cleaner.cleanUntilIdle(T0 + 3000);
  assert.equal(second.firstDirtyOffset, activeBase, 'the second pass maps only what is new');
  const afterSecond = readAll(log).filter((r) => !r.key!.startsWith('filler'));
  assert.deepEqual(
    afterSecond,
    expectedAfterCleaning(everything, second.endOffset).filter((r) => !r.key!.startsWith('filler')),
  );
  assert.ok(second.segmentsAfter < second.segmentsBefore, 'small cleaned segments are merged');

  // It all survives a restart, and the next pass starts where the last one ended.
  const dir = log.dir;
  const rowsBefore = readAll(log);
  close(log);
  const reopened = open(dir);
  assert.deepEqual(readAll(reopened), rowsBefore);
  assert.equal(reopened.cleanerOffset, second.endOffset);
});

test('tombstones stay until delete.retention.ms after their first cleaning, then go', () => {
  const log = open(tempDir(), { ...COMPACT, 'delete.retention.ms': String(DAY) });
  write(log, [
    ['a', 'a1'],
    ['b', 'b1'],
    ['a', null],
    ['c', 'c1'],
  ]);
  rolledTo(log, 3);
  const cleaner = cleanerFor(log);
  const [first] = cleaner.cleanUntilIdle(T0);
  assert.equal(first.tombstonesRemoved, 0);
  const rows = () => readAll(log).filter((r) => !r.key!.startsWith('filler'));
  assert.deepEqual(rows(), [
    { offset: 1, key: 'b', value: 'b1' },
    { offset: 2, key: 'a', value: null },
    { offset: 3, key: 'c', value: 'c1' },
  ]);
  // The tombstone's batch carries its delete horizon (KIP-534): now + delete.retention.ms.
  const [horizonBatch] = [...batchHeaders(log.read(2, 1 << 20, { minOneBatch: true }).records)];
  assert.equal(horizonBatch.hasDeleteHorizon, true);
  assert.equal(horizonBatch.baseTimestamp, T0 + DAY);

  // Before the horizon the tombstone stays, even when the log is cleaned again.
  write(log, [['b', 'b2']]);
  rolledTo(log, log.segmentBaseOffsets().length + 1);
  const [beforeHorizon] = cleaner.cleanUntilIdle(T0 + DAY - 1);
  assert.equal(beforeHorizon.tombstonesRemoved, 0);
  assert.ok(rows().some((r) => r.key === 'a' && r.value === null));
  assert.ok(!rows().some((r) => r.key === 'b' && r.value === 'b1'));

  // After it, the cleaner comes back for the tombstone alone, with nothing new written.
  const [afterHorizon] = cleaner.cleanUntilIdle(T0 + DAY + 1);
  assert.equal(afterHorizon.tombstonesRemoved, 1);
  assert.deepEqual(
    rows().map((r) => r.key),
    ['c', 'b'],
  );
  assert.deepEqual(cleaner.cleanUntilIdle(T0 + 2 * DAY), [], 'then nothing is due');
});

test('records newer than min.compaction.lag.ms are not compacted; compact,delete also applies retention', () => {
  const lagged = open(tempDir(), { ...COMPACT, 'min.compaction.lag.ms': String(DAY) });
  const old = write(
    lagged,
    Array.from({ length: 40 }, (_, i) => [`k${i % 3}`, `old${i}`]),
    2,
    T0,
  );
  const young = write(
    lagged,
    Array.from({ length: 40 }, (_, i) => [`k${i % 3}`, `new${i}`]),
    2,
    T0 + DAY,
  );
  rolledTo(lagged, lagged.segmentBaseOffsets().length + 1);
  const [stats] = cleanerFor(lagged).cleanUntilIdle(T0 + DAY + 1000);
  assert.ok(stats.endOffset <= young[0].offset + 1, 'the map stops before the young segments');
  const rows = readAll(lagged);
  for (const r of young)
    assert.ok(
      rows.some((x) => x.offset === r.offset),
      `young offset ${r.offset} kept`,
    );
  assert.deepEqual(
    rows.filter((r) => r.offset < stats.endOffset),
    expectedAfterCleaning(old, stats.endOffset).filter((r) => r.offset < stats.endOffset),
    'below the lag, one record per key',
  );
  assert.ok(stats.endOffset > 6, 'the old segments were compacted');

  const both = open(tempDir(), {
    ...COMPACT,
    'cleanup.policy': 'compact,delete',
    'retention.ms': String(DAY),
  });
  const expiring = write(
    both,
    Array.from({ length: 60 }, (_, i) => [`old${i}`, `v${i}`]),
    2,
    T0,
  );
  write(
    both,
    Array.from({ length: 60 }, (_, i) => [`k${i % 5}`, `w${i}`]),
    2,
    T0 + 2 * DAY,
  );
  rolledTo(both, both.segmentBaseOffsets().length + 1);
  const [cleaned] = cleanerFor(both).cleanUntilIdle(T0 + 2 * DAY);
  assert.equal(cleaned.recordsRemoved, 55, 'compaction: 60 records of 5 keys keep 5');
  assert.ok(both.deleteOldSegments(T0 + 2 * DAY + 1000) > 0, 'retention: old segments go');
  assert.ok(both.logStartOffset > 0);
  const left = readAll(both).filter((r) => r.key!.startsWith('old')).length;
  assert.ok(left < expiring.length / 2, `${left} of ${expiring.length} expired records left`);
});

test('a compacted topic refuses records without a key: INVALID_RECORD naming them, nothing appended', () => {
  const log = open(tempDir());
  const batch = encodeBatch({
    records: [
      { key: 'k', value: 'v' },
      { key: null, value: 'no key' },
      { key: null, value: 'none either' },
    ],
  });
  assert.throws(
    () => log.append(batch, 0),
    (err: unknown) => {
      assert.ok(err instanceof RecordValidationError);
      assert.equal(err.code, ErrorCode.INVALID_RECORD);
      assert.match(err.message, /Compacted topic cannot accept message without key/);
      assert.deepEqual(
        err.recordErrors.map((e) => e.batchIndex),
        [1, 2],
      );
      return true;
    },
  );
  assert.equal(log.logEndOffset, 0);
  const plain = open(tempDir(), {});
  assert.equal(plain.append(batch, 0).lastOffset, 2, 'a delete-policy topic takes them');
});

test('an idempotent producer keeps its last batch as an empty batch, so its sequence survives', () => {
  const dir = tempDir();
  const log = open(dir);
  const pid = 77;
  const mine = encodeBatch({
    records: [
      { key: 'a', value: 'a1' },
      { key: 'b', value: 'b1' },
    ],
    producerId: pid,
    producerEpoch: 0,
    baseSequence: 0,
    timestamp: T0,
  });
  log.append(mine, 0);
  write(log, [
    ['a', 'a2'],
    ['b', 'b2'],
  ]);
  rolledTo(log, 3);
  cleanerFor(log).cleanUntilIdle(T0);
  const [kept] = [...batchHeaders(log.read(0, 1 << 20, { minOneBatch: true }).records)];
  assert.deepEqual(
    [kept.baseOffset, kept.lastOffset, kept.recordCount, kept.producerId, kept.baseSequence],
    [0, 1, 0, pid, 0],
  );
  assert.ok(!readAll(log).some((r) => r.offset < 2));
  close(log);
  for (const f of fs.readdirSync(dir)) if (f.endsWith('.snapshot')) fs.rmSync(path.join(dir, f));
  const rebuilt = open(dir);
  const again = rebuilt.append(mine, 0);
  assert.deepEqual([again.duplicate, again.baseOffset], [true, 0], 'rebuilt from the empty batch');
});

test('the cleaner works in bounded steps; appends and rolls go on between them, retention aborts and restarts it', () => {
  const log = open(tempDir());
  const written = write(
    log,
    Array.from({ length: 400 }, (_, i) => [`k${i % 11}`, `v${i}-${'p'.repeat(40)}`]),
  );
  const cleaner = new LogCleaner({ logs: () => [log], logger: memoryLogger(), ioBufferSize: 512 });
  let steps = 0;
  let cleaned: CleanerStats | undefined;
  const extra: Row[] = [];
  while (cleaned === undefined) {
    const r = cleaner.step(T0);
    steps++;
    cleaned = r.cleaned;
    // Produce between steps, rolling segments now and then.
    extra.push(...write(log, [[`x${steps % 4}`, `e${steps}`]]));
    assert.ok(steps < 10_000);
  }
  assert.ok(steps > 20, `${steps} steps`);
  const stats = cleaned;
  const rows = readAll(log);
  assert.deepEqual(
    rows.filter((r) => r.offset < stats.endOffset),
    expectedAfterCleaning([...written, ...extra], stats.endOffset).filter((r) => r.offset < stats.endOffset),
  );
  assert.deepEqual(
    rows.filter((r) => r.offset >= stats.endOffset),
    [...written, ...extra].filter((r) => r.offset >= stats.endOffset),
  );

  // A retention pass between steps (DeleteRecords here) aborts the cleaning; the next one finishes.
  write(
    log,
    Array.from({ length: 100 }, (_, i) => [`k${i % 11}`, `w${i}`]),
  );
  rolledTo(log, log.segmentBaseOffsets().length + 1);
  const cleanedFiles = () => fs.readdirSync(log.dir).filter((f) => f.endsWith('.cleaned'));
  for (let i = 0; cleanedFiles().length === 0; i++) {
    assert.ok(i < 1000);
    assert.equal(cleaner.step(T0).more, true);
  }
  assert.equal(cleaner.busy, true);
  log.deleteRecordsBefore(log.segmentBaseOffsets()[1]);
  cleaner.step(T0);
  assert.deepEqual(cleanedFiles(), [], 'the aborted cleaning left nothing');
  const done = cleaner.cleanUntilIdle(T0);
  assert.equal(done.length, 1);
  const final = readAll(log);
  for (let i = 1; i < final.length; i++) assert.ok(final[i].offset > final[i - 1].offset);
  assert.equal(
    new Set(final.filter((r) => r.offset < done[0].endOffset).map((r) => r.key)).size,
    final.filter((r) => r.offset < done[0].endOffset).length,
    'one record per key below the end',
  );
});

/** Copies a partition directory. */
function copyDir(from: string): string {
  const to = tempDir();
  for (const f of fs.readdirSync(from)) fs.copyFileSync(path.join(from, f), path.join(to, f));
  return to;
}

const logFiles = (dir: string) =>
  fs.readdirSync(dir).filter((f) => /^\d{20}\.(log|index|timeindex)$/.test(f));

test('a crash at any point of a swap recovers the old segments or the cleaned one, never a mix', () => {
  // Before: many segments. After: one cleaned segment in their place (segment.bytes raised for the
  // cleaning, so every inactive segment is one group).
  const before = tempDir();
  const config = { ...COMPACT, 'index.interval.bytes': '64' };
  const log = open(before, config);
  const written = write(
    log,
    Array.from({ length: 240 }, (_, i) => [`k${i % 7}`, `v${i}`]),
  );
  close(log);
  const after = copyDir(before);
  const cleaning = open(after, config);
  cleaning.updateConfig(TopicConfig.resolve({ ...config, 'segment.bytes': '1000000' }));
  const [stats] = cleanerFor(cleaning).cleanUntilIdle(T0);
  close(cleaning);
  const cleanedBase = 0;
  const oldBases = logFiles(before)
    .filter((f) => f.endsWith('.log'))
    .map((f) => Number(f.slice(0, 20)))
    .filter((b) => b < stats.endOffset);
  assert.ok(oldBases.length > 5);
  const expectOld = written;
  const expectNew = expectedAfterCleaning(written, stats.endOffset);

  const name = (base: number, suffix: string) => `${String(base).padStart(20, '0')}${suffix}`;
  const cleanedFile = (suffix: string) => path.join(after, name(cleanedBase, suffix));
  const scenarios: { what: string; expect: Row[]; make: (dir: string) => void }[] = [
    {
      what: 'cleaned files written, not committed',
      expect: expectOld,
      make: (dir) => {
        for (const s of ['.log', '.index', '.timeindex']) {
          fs.copyFileSync(cleanedFile(s), path.join(dir, name(cleanedBase, `${s}.cleaned`)));
        }
      },
    },
    {
      what: 'index files renamed .swap, the log still .cleaned',
      expect: expectOld,
      make: (dir) => {
        fs.copyFileSync(cleanedFile('.log'), path.join(dir, name(cleanedBase, '.log.cleaned')));
        fs.copyFileSync(cleanedFile('.index'), path.join(dir, name(cleanedBase, '.index.swap')));
        fs.copyFileSync(cleanedFile('.timeindex'), path.join(dir, name(cleanedBase, '.timeindex.swap')));
      },
    },
    {
      what: 'swap committed, old segments untouched',
      expect: expectNew,
      make: (dir) => {
        for (const s of ['.log', '.index', '.timeindex']) {
          fs.copyFileSync(cleanedFile(s), path.join(dir, name(cleanedBase, `${s}.swap`)));
        }
      },
    },
    {
      what: 'swap committed, half the old segments renamed .deleted',
      expect: expectNew,
      make: (dir) => {
        for (const s of ['.log', '.index', '.timeindex']) {
          fs.copyFileSync(cleanedFile(s), path.join(dir, name(cleanedBase, `${s}.swap`)));
        }
        for (const b of oldBases.slice(0, oldBases.length / 2)) {
          for (const s of ['.log', '.index', '.timeindex']) {
            fs.renameSync(path.join(dir, name(b, s)), path.join(dir, name(b, `${s}.deleted`)));
          }
        }
      },
    },
    {
      what: 'final renames begun: indexes in place, the log still .swap',
      expect: expectNew,
      make: (dir) => {
        for (const b of oldBases) {
          for (const s of ['.log', '.index', '.timeindex']) {
            fs.renameSync(path.join(dir, name(b, s)), path.join(dir, name(b, `${s}.deleted`)));
          }
        }
        fs.copyFileSync(cleanedFile('.index'), path.join(dir, name(cleanedBase, '.index')));
        fs.copyFileSync(cleanedFile('.timeindex'), path.join(dir, name(cleanedBase, '.timeindex')));
        fs.copyFileSync(cleanedFile('.log'), path.join(dir, name(cleanedBase, '.log.swap')));
      },
    },
    {
      what: 'cleaned segment in place, old ones left as .deleted',
      expect: expectNew,
      make: (dir) => {
        for (const b of oldBases) {
          for (const s of ['.log', '.index', '.timeindex']) {
            fs.renameSync(path.join(dir, name(b, s)), path.join(dir, name(b, `${s}.deleted`)));
          }
        }
        for (const s of ['.log', '.index', '.timeindex'])
          fs.copyFileSync(cleanedFile(s), path.join(dir, name(0, s)));
      },
    },
  ];
  for (const s of scenarios) {
    const dir = copyDir(before);
    fs.rmSync(path.join(dir, '.clean-shutdown')); // a crash leaves no marker
    s.make(dir);
    const recovered = open(dir, config);
    assert.deepEqual(readAll(recovered), s.expect, s.what);
    assert.equal(recovered.logEndOffset, written.length, s.what);
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => /\.(cleaned|swap|deleted)$/.test(f)),
      [],
      `${s.what}: nothing left over`,
    );
    if (s.expect === expectNew) {
      assert.ok(fs.statSync(cleanedFile('.index')).size > 0);
      const index = fs.readFileSync(path.join(dir, name(cleanedBase, '.index')));
      assert.deepEqual(
        index,
        fs.readFileSync(cleanedFile('.index')),
        `${s.what}: the cleaned index is in place`,
      );
    }
    close(recovered);
  }
});

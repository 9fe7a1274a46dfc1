import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { crc32c } from '@node-rs/crc32';
import { ErrorCode } from '../error-codes';
import { KafkaProtocolError } from '../errors';
import { BATCH, BatchHeader, CompressionType, TimestampType } from './batch-header';
import { compress } from './compression';
import {
  ControlRecordType,
  encodeTxnMarkerBatch,
  parseControlRecord,
  readTxnMarker,
  transactionMarker,
} from './control-record';
import {
  decodeRecordBatch,
  decodeRecordBatches,
  encodeRecordBatch,
  type KafkaRecord,
  type RecordInput,
} from './record-batch';
import { assertCorrupt, crc32cReference, mixedPayload, prng } from './test-support';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+|#[^\n]*/g, ''), 'hex');
const CODECS = [
  CompressionType.None,
  CompressionType.Gzip,
  CompressionType.Snappy,
  CompressionType.Lz4,
  CompressionType.Zstd,
];

/** Recomputes a batch's CRC after a test has edited it on purpose. */
function fixCrc(batch: Buffer): Buffer {
  batch.writeUInt32BE(crc32c(batch.subarray(BATCH.ATTRIBUTES)) >>> 0, BATCH.CRC);
  return batch;
}

/*
 * One uncompressed record, laid out by hand from the RecordBatch v2 spec. Timestamp
 * 1700000000000 ms = 0x0000018B_CFE56800. Varints are zig-zag: 0 -> 00, 1 -> 02, 5 -> 0a,
 * 16 -> 20, -1 -> 01.
 */
const GOLDEN_RECORD = `
  20                  # length 16: the 16 bytes below
  00                  # attributes
  00                  # timestampDelta 0
  00                  # offsetDelta 0
  02 6b               # key length 1, "k"
  0a 68656c6c6f       # value length 5, "hello"
  02                  # 1 header
  02 68               #   key length 1, "h"
  02 76               #   value length 1, "v"
`;
/** Everything the CRC covers: attributes to the end. */
const GOLDEN_AFTER_CRC = `
  0000                # attributes: no compression, create time, not transactional
  00000000            # lastOffsetDelta 0
  0000018bcfe56800    # baseTimestamp
  0000018bcfe56800    # maxTimestamp
  ffffffffffffffff    # producerId -1
  ffff                # producerEpoch -1
  ffffffff            # baseSequence -1
  00000001            # recordCount 1
  ${GOLDEN_RECORD}
`;
/** CRC-32C of GOLDEN_AFTER_CRC, worked out with a bitwise CRC-32C outside this project. */
const GOLDEN_CRC = 0xc622acfa;
const GOLDEN_BATCH = `
  0000000000000007    # baseOffset 7
  00000042            # batchLength 66 = 61 - 12 header bytes + 17 record bytes
  ffffffff            # partitionLeaderEpoch -1
  02                  # magic 2
  c622acfa            # crc
  ${GOLDEN_AFTER_CRC}
`;

describe('golden vector', () => {
  test('CRC-32C: the library and a bitwise reference agree with known values', () => {
    const check = Buffer.from('123456789');
    assert.equal(crc32c(check) >>> 0, 0xe3069283);
    assert.equal(crc32cReference(check), 0xe3069283);
    assert.equal(crc32cReference(hex(GOLDEN_AFTER_CRC)), GOLDEN_CRC);
    assert.equal(crc32c(hex(GOLDEN_AFTER_CRC)) >>> 0, GOLDEN_CRC);
  });

  test('encodes one record byte for byte', () => {
    const batch = encodeRecordBatch({
      baseOffset: 7,
      records: [
        {
          key: Buffer.from('k'),
          value: Buffer.from('hello'),
          headers: [{ key: 'h', value: Buffer.from('v') }],
          timestamp: 1700000000000,
        },
      ],
    });
    assert.equal(batch.toString('hex'), hex(GOLDEN_BATCH).toString('hex'));
  });

  test('decodes it to the record it was laid out from', () => {
    const { header, records } = decodeRecordBatch(hex(GOLDEN_BATCH));
    assert.equal(header.baseOffset, 7);
    assert.equal(header.crc, GOLDEN_CRC);
    assert.equal(header.recordCount, 1);
    assert.equal(header.timestampType, TimestampType.CreateTime);
    assert.deepEqual(records, [
      {
        offset: 7,
        timestamp: 1700000000000,
        key: Buffer.from('k'),
        value: Buffer.from('hello'),
        headers: [{ key: 'h', value: Buffer.from('v') }],
      },
    ]);
  });

  test('a transaction marker, laid out by hand', () => {
    const batch = encodeRecordBatch({
      baseOffset: 100,
      records: [transactionMarker(ControlRecordType.Commit, 5, 1700000000000)],
      producerId: 42,
      producerEpoch: 3,
      isTransactional: true,
      isControl: true,
    });
    assert.equal(batch.readInt16BE(BATCH.ATTRIBUTES), 0x30, 'transactional | control');
    // length 16 | attrs | ts 0 | offset 0 | key len 4: version 0, type 1 | value len 6:
    // version 0, coordinator epoch 5 | no headers
    assert.equal(
      batch.subarray(BATCH.RECORDS).toString('hex'),
      '20' + '00' + '00' + '00' + '08' + '00000001' + '0c' + '000000000005' + '00',
    );
    const { header, records } = decodeRecordBatch(batch);
    assert.ok(header.isControl && header.isTransactional);
    assert.equal(header.producerId, 42);
    assert.deepEqual(parseControlRecord(records[0]), {
      type: ControlRecordType.Commit,
      coordinatorEpoch: 5,
    });
  });
});

/** Records with every shape the format allows. */
function sampleRecords(n: number): RecordInput[] {
  const rand = prng(n);
  const out: RecordInput[] = [];
  const t0 = 1700000000000;
  for (let i = 0; i < n; i++) {
    const headers =
      i % 4 === 0
        ? []
        : [
            { key: `h${i}`, value: Buffer.from(`v${i}`) },
            { key: 'ünïcødé-ключ', value: null },
            { key: '', value: Buffer.alloc(0) },
          ];
    out.push({
      key: i % 5 === 0 ? null : i % 7 === 0 ? Buffer.alloc(0) : Buffer.from(`key-${i}`),
      value:
        i % 6 === 0
          ? null
          : i % 50 === 1
            ? mixedPayload(200_000 + Math.floor(rand() * 100_000), i)
            : mixedPayload(Math.floor(rand() * 300), i),
      headers,
      // Out of order on purpose: deltas from the first record go negative too.
      timestamp: t0 + Math.floor((rand() - 0.3) * 100_000),
    });
  }
  return out;
}

function assertRecordsMatch(got: KafkaRecord[], want: readonly RecordInput[], baseOffset: number): void {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    assert.equal(g.offset, baseOffset + (w.offsetDelta ?? i), `offset of ${i}`);
    assert.equal(g.timestamp, w.timestamp, `timestamp of ${i}`);
    assert.deepEqual(g.key, w.key ?? null, `key of ${i}`);
    assert.deepEqual(g.value, w.value ?? null, `value of ${i}`);
    assert.deepEqual(g.headers, w.headers ?? [], `headers of ${i}`);
  }
}

describe('round trips', () => {
  const records = sampleRecords(400);
  for (const compression of CODECS) {
    test(`codec ${compression}: 400 records, null and empty keys/values, headers, 200 kB+ values`, () => {
      const batch = encodeRecordBatch({
        baseOffset: 1_000_000,
        records,
        compression,
        producerId: 77,
        producerEpoch: 2,
        baseSequence: 1234,
        partitionLeaderEpoch: 9,
        isTransactional: true,
      });
      const { header, records: got } = decodeRecordBatch(batch);
      assert.equal(header.sizeInBytes, batch.length);
      assert.equal(header.compression, compression);
      assert.equal(header.recordCount, 400);
      assert.equal(header.lastOffsetDelta, 399);
      assert.equal(header.lastOffset, 1_000_399);
      assert.equal(header.producerId, 77);
      assert.equal(header.producerEpoch, 2);
      assert.equal(header.baseSequence, 1234);
      assert.equal(header.partitionLeaderEpoch, 9);
      assert.ok(header.isTransactional && !header.isControl);
      assert.equal(header.baseTimestamp, records[0].timestamp);
      assert.equal(header.maxTimestamp, Math.max(...records.map((r) => r.timestamp!)));
      assertRecordsMatch(got, records, 1_000_000);
      if (compression !== CompressionType.None) {
        const plain = encodeRecordBatch({ records });
        assert.ok(batch.length < plain.length, 'the batch is actually compressed');
      }
    });
  }

  test('defaults: offset 0, producer fields -1, timestamps now', () => {
    const before = Date.now();
    const batch = encodeRecordBatch({ records: [{ value: Buffer.from('a') }, { value: null }] });
    const { header, records } = decodeRecordBatch(batch);
    assert.equal(header.baseOffset, 0);
    assert.equal(header.producerId, -1);
    assert.equal(header.producerEpoch, -1);
    assert.equal(header.baseSequence, -1);
    assert.equal(header.partitionLeaderEpoch, -1);
    assert.ok(!header.isTransactional && !header.isControl && !header.hasDeleteHorizon);
    assert.ok(records[0].timestamp >= before && records[0].timestamp <= Date.now());
    assert.equal(records[0].key, null);
    assert.equal(records[1].value, null);
  });

  test('timestamps far from the base (varlong beyond 32 bits) and negative ones', () => {
    const records: RecordInput[] = [
      { value: null, timestamp: 0 },
      { value: null, timestamp: 1700000000000 },
      { value: null, timestamp: -1 },
      { value: null, timestamp: 2 ** 50 },
    ];
    for (const compression of [CompressionType.None, CompressionType.Zstd]) {
      const got = decodeRecordBatch(encodeRecordBatch({ records, compression })).records;
      assert.deepEqual(
        got.map((r) => r.timestamp),
        records.map((r) => r.timestamp),
      );
    }
  });

  test('offset gaps and rewrite overrides, as compaction writes them', () => {
    const records: RecordInput[] = [
      { key: Buffer.from('a'), value: Buffer.from('1'), timestamp: 10, offsetDelta: 3 },
      { key: Buffer.from('b'), value: null, timestamp: 20, offsetDelta: 8 },
    ];
    const batch = encodeRecordBatch({
      baseOffset: 50,
      records,
      lastOffsetDelta: 11,
      maxTimestamp: 99,
      deleteHorizonMs: 5_000,
    });
    const { header, records: got } = decodeRecordBatch(batch);
    assert.equal(header.lastOffsetDelta, 11);
    assert.equal(header.maxTimestamp, 99);
    assert.ok(header.hasDeleteHorizon);
    assert.equal(header.baseTimestamp, 5_000);
    assert.deepEqual(
      got.map((r) => [r.offset, r.timestamp]),
      [
        [53, 10],
        [58, 20],
      ],
    );
    assert.throws(
      () => encodeRecordBatch({ records: [{ offsetDelta: 2 }, { offsetDelta: 2 }] }),
      (e: unknown) => e instanceof KafkaProtocolError && e.code === ErrorCode.INVALID_RECORD,
    );
  });

  test('an empty batch (compaction keeps them for producer state)', () => {
    const batch = encodeRecordBatch({
      baseOffset: 10,
      records: [],
      lastOffsetDelta: 4,
      baseTimestamp: 123,
      producerId: 5,
    });
    assert.equal(batch.length, BATCH.HEADER_SIZE);
    const { header, records } = decodeRecordBatch(batch);
    assert.equal(records.length, 0);
    assert.equal(header.lastOffset, 14);
    assert.equal(header.maxTimestamp, 123);
  });

  test('log-append time gives every record the batch max timestamp', () => {
    const batch = encodeRecordBatch({
      records: [
        { value: null, timestamp: 1 },
        { value: null, timestamp: 3 },
      ],
      timestampType: TimestampType.LogAppendTime,
    });
    // What a broker does on append with message.timestamp.type=LogAppendTime.
    batch.writeUInt32BE(0, BATCH.MAX_TIMESTAMP);
    batch.writeUInt32BE(777, BATCH.MAX_TIMESTAMP + 4);
    fixCrc(batch);
    const { header, records } = decodeRecordBatch(batch);
    assert.equal(header.timestampType, TimestampType.LogAppendTime);
    assert.deepEqual(
      records.map((r) => r.timestamp),
      [777, 777],
    );
  });

  test('decodeRecordBatches: every complete batch, a trailing partial one ignored', () => {
    const a = encodeRecordBatch({ baseOffset: 0, records: sampleRecords(3) });
    const b = encodeRecordBatch({
      baseOffset: 3,
      records: sampleRecords(5),
      compression: CompressionType.Lz4,
    });
    const c = encodeRecordBatch({ baseOffset: 8, records: sampleRecords(2) });
    const fetched = Buffer.concat([a, b, c]);
    assert.deepEqual(
      decodeRecordBatches(fetched).map((x) => x.header.lastOffset),
      [2, 7, 9],
    );
    for (const cut of [1, 11, 12, 60, 61, c.length - 1]) {
      const partial = fetched.subarray(0, a.length + b.length + cut);
      assert.equal(decodeRecordBatches(partial).length, 2, `cut ${cut} into the third`);
    }
    assert.deepEqual(decodeRecordBatches(Buffer.alloc(0)), []);
    const tooShort = Buffer.concat([a, hex('0000000000000000 00000010 ffffffff 02')]);
    assertCorrupt(() => decodeRecordBatches(tooShort), 'a batch length shorter than a header');
  });

  test('control batches are flagged and their markers read', () => {
    const batch = encodeRecordBatch({
      baseOffset: 9,
      records: [transactionMarker(ControlRecordType.Abort, 12)],
      isTransactional: true,
      isControl: true,
      producerId: 1,
    });
    const [decoded] = decodeRecordBatches(batch);
    assert.ok(decoded.header.isControl);
    assert.deepEqual(parseControlRecord(decoded.records[0]), {
      type: ControlRecordType.Abort,
      coordinatorEpoch: 12,
    });
    assertCorrupt(() => parseControlRecord({ ...decoded.records[0], key: Buffer.from([0]) }), 'short key');
  });

  test('a marker is read from its batch without decoding it, compressed or not; other control batches are none', () => {
    const marker = encodeTxnMarkerBatch({
      producerId: 5,
      producerEpoch: 3,
      coordinatorEpoch: 77,
      committed: true,
    });
    assert.deepEqual(readTxnMarker(new BatchHeader(marker)), { committed: true, coordinatorEpoch: 77 });
    const compressed = encodeRecordBatch({
      records: [transactionMarker(ControlRecordType.Abort, 8)],
      compression: CompressionType.Gzip,
      isTransactional: true,
      isControl: true,
    });
    assert.deepEqual(readTxnMarker(new BatchHeader(compressed)), { committed: false, coordinatorEpoch: 8 });
    const emptied = encodeRecordBatch({ records: [], isTransactional: true, isControl: true });
    assert.equal(readTxnMarker(new BatchHeader(emptied)), null, 'compaction emptied it');
    const kraft = encodeRecordBatch({
      records: [{ key: Buffer.from([0, 0, 0, 3]), value: Buffer.alloc(8) }],
      isControl: true,
    });
    assert.equal(readTxnMarker(new BatchHeader(kraft)), null, 'a KRaft control record');
    const shortValue = encodeRecordBatch({
      records: [{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0]) }],
      isControl: true,
    });
    assertCorrupt(() => readTxnMarker(new BatchHeader(shortValue)), 'a marker value of 2 bytes');
  });
});

describe('corrupt batches are CORRUPT_MESSAGE', () => {
  const records = sampleRecords(20);
  const good = (compression = CompressionType.None): Buffer =>
    encodeRecordBatch({ baseOffset: 0, records, compression });

  test('wrong CRC', () => {
    const batch = encodeRecordBatch({ records: [{ value: Buffer.alloc(100, 'a') }] });
    batch[batch.length - 10] ^= 0x01; // inside the value: 'a' becomes '`'
    assertCorrupt(() => decodeRecordBatch(batch), 'flipped value bit');
    // The CRC is what caught it: unchecked, the same bytes decode.
    const unchecked = decodeRecordBatch(batch, 0, { verifyCrc: false });
    assert.equal(unchecked.records[0].value!.toString().replace(/a/g, ''), '`');
    const crc = good();
    crc[BATCH.CRC] ^= 1;
    assertCorrupt(() => decodeRecordBatch(crc), 'flipped CRC bit');
  });

  test('truncated at every length', () => {
    for (const compression of [CompressionType.None, CompressionType.Snappy]) {
      const batch = good(compression);
      for (let cut = 0; cut < batch.length; cut += cut < 100 ? 1 : 97) {
        assertCorrupt(() => decodeRecordBatch(batch.subarray(0, cut)), `cut at ${cut}`);
      }
    }
  });

  test('record count that lies, up and down, compressed or not', () => {
    for (const compression of CODECS) {
      for (const count of [0, 19, 21, 1000, 2 ** 31 - 1, -1]) {
        const batch = good(compression);
        batch.writeInt32BE(count, BATCH.RECORD_COUNT);
        assertCorrupt(() => decodeRecordBatch(fixCrc(batch)), `codec ${compression} count ${count}`);
      }
    }
  });

  test('garbage compressed payloads and unknown codec ids', () => {
    for (const codec of [1, 2, 3, 4, 5, 6, 7]) {
      const batch = Buffer.concat([good().subarray(0, BATCH.HEADER_SIZE), randomBytes(500)]);
      batch.writeInt32BE(batch.length - BATCH.LOG_OVERHEAD, BATCH.BATCH_LENGTH);
      batch.writeInt16BE(codec, BATCH.ATTRIBUTES);
      assertCorrupt(() => decodeRecordBatch(fixCrc(batch)), `codec ${codec} garbage`);
    }
    // A valid zstd payload of records whose bytes are garbage.
    const batch = Buffer.concat([
      good().subarray(0, BATCH.HEADER_SIZE),
      compress(CompressionType.Zstd, randomBytes(500)),
    ]);
    batch.writeInt32BE(batch.length - BATCH.LOG_OVERHEAD, BATCH.BATCH_LENGTH);
    batch.writeInt16BE(CompressionType.Zstd, BATCH.ATTRIBUTES);
    assertCorrupt(() => decodeRecordBatch(fixCrc(batch)), 'zstd of garbage');
  });

  /** A one-record batch whose record section is exactly `section`. */
  function withSection(section: Buffer, count = 1): Buffer {
    const batch = Buffer.concat([good().subarray(0, BATCH.HEADER_SIZE), section]);
    batch.writeInt32BE(batch.length - BATCH.LOG_OVERHEAD, BATCH.BATCH_LENGTH);
    batch.writeInt32BE(count, BATCH.RECORD_COUNT);
    return fixCrc(batch);
  }

  test('record fields that overrun, lie or never end', () => {
    const cases: [string, string][] = [
      ['record length past the end', '7e 00 00 00 01 01 00'],
      ['record length shorter than its fields', '0a 00 00 00 01 01 00 00 00 00 00'],
      ['record length negative', '03 00 00 00 01 01 00'],
      ['key length past the record', '0c 00 00 00 7e 01 00 00 00 00 00 00 00'],
      ['key length -2', '0c 00 00 00 03 01 00 00 00 00 00 00 00'],
      ['header count past the record', '0c 00 00 00 01 01 7e 00 00 00 00 00 00'],
      ['negative header count', '0c 00 00 00 01 01 03 00 00 00 00 00 00'],
      ['null header key', '10 00 00 00 01 01 02 01 01 00 00 00 00 00 00'],
      ['a six-byte varint', '16 00 00 ffffffffff01 01 01 00 00 00 00 00 00 00'],
      ['varint over 32 bits', '14 00 00 ffffffff1f 01 01 00 00 00 00 00 00 00'],
      ['an eleven-byte varlong', '1c 00 ffffffffffffffffffff01 00 01 01 00 00 00 00 00 00'],
      ['bytes after the last record', '0c 00 00 00 01 01 00 00 00 00 00 00 00'],
    ];
    for (const [what, section] of cases) {
      assertCorrupt(() => decodeRecordBatch(withSection(hex(section))), what);
    }
    // The smallest record, for contrast, decodes.
    const ok = decodeRecordBatch(withSection(hex('0c 00 00 00 01 01 00')));
    assert.equal(ok.records.length, 1);
  });

  test('other framing: magic, short length, bad position', () => {
    const magic1 = good();
    magic1.writeInt8(1, BATCH.MAGIC);
    assert.throws(
      () => decodeRecordBatch(magic1),
      (e: unknown) => e instanceof KafkaProtocolError && e.code === ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
    );
    const short = good();
    short.writeInt32BE(20, BATCH.BATCH_LENGTH);
    assertCorrupt(() => decodeRecordBatch(short), 'length below a header');
    const negative = good();
    negative.writeInt32BE(-100, BATCH.BATCH_LENGTH);
    assertCorrupt(() => decodeRecordBatch(negative), 'negative length');
    assertCorrupt(() => decodeRecordBatch(good(), -1), 'negative position');
    assertCorrupt(() => decodeRecordBatch(good(), 1.5), 'fractional position');
  });
});

describe('fuzz', () => {
  test('2000 mutations of valid batches: only KafkaProtocolError, never a hang', () => {
    const seed = Number(process.env.FUZZ_SEED ?? 0x5eed);
    const rand = prng(seed);
    const int = (n: number): number => Math.floor(rand() * n);
    const small = sampleRecords(12).map((r, i) => ({
      ...r,
      value: r.value === null || r.value === undefined ? null : r.value.subarray(0, 200 + i),
    }));
    const bases = CODECS.map((compression) =>
      encodeRecordBatch({ baseOffset: 40, records: small, compression }),
    );
    const started = Date.now();
    let decoded = 0;
    let rejected = 0;
    for (let i = 0; i < 2000; i++) {
      const base = bases[i % bases.length];
      let batch: Buffer = Buffer.from(base);
      const mutations = 1 + int(4);
      for (let m = 0; m < mutations; m++) {
        const kind = int(6);
        if (kind === 0) batch[int(batch.length)] ^= 1 << int(8);
        else if (kind === 1) batch[int(batch.length)] = int(256);
        else if (kind === 2) batch = batch.subarray(0, int(batch.length));
        else if (kind === 3) {
          const at = int(batch.length);
          batch = Buffer.concat([batch.subarray(0, at), randomBytes(1 + int(8)), batch.subarray(at)]);
        } else if (kind === 4 && batch.length > BATCH.RECORDS) {
          // Mutate inside the records section, where the CRC hides nothing once fixed below.
          const at = BATCH.RECORDS + int(batch.length - BATCH.RECORDS);
          batch[at] = int(256);
        } else if (kind === 5 && batch.length >= BATCH.HEADER_SIZE) {
          batch.writeInt32BE(
            int(4) === 0 ? -int(100) : int(batch.length * 2),
            int(2) ? BATCH.BATCH_LENGTH : BATCH.RECORD_COUNT,
          );
        }
      }
      // Most mutants get a valid CRC, so the decoder behind the CRC check is exercised.
      if (i % 4 !== 0 && batch.length >= BATCH.HEADER_SIZE) batch = fixCrc(Buffer.from(batch));
      try {
        decodeRecordBatch(batch, 0, { maxDecompressedBytes: 16 * 1024 * 1024 });
        decodeRecordBatches(batch);
        decoded++;
      } catch (err) {
        if (!(err instanceof KafkaProtocolError)) {
          assert.fail(`mutant ${i} (seed ${seed}) threw ${String(err)}: ${batch.toString('hex')}`);
        }
        rejected++;
      }
    }
    assert.equal(decoded + rejected, 2000);
    assert.ok(rejected > 1000, `most mutants are rejected (${rejected})`);
    assert.ok(Date.now() - started < 30_000, 'no mutant takes long');
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode } from '../error-codes';
import { KafkaProtocolError } from '../errors';
import { CompressionType } from './batch-header';
import { COMPRESSION_NAMES } from './compression';
import { upConvertMessageSet } from './legacy-message-set';
import { decodeRecordBatch, encodeRecordBatch } from './record-batch';
import { assertCorrupt, python } from './test-support';

/*
 * Legacy message sets as kafka-python's LegacyRecordBatchBuilder (python3-kafka) writes them,
 * magic 0 and 1, plain and compressed, up-converted and read back as record batches v2.
 */

interface Message {
  key: string | null;
  value: string | null;
  timestamp: number;
}

function legacySet(magic: 0 | 1, codec: CompressionType, messages: readonly Message[]): Buffer {
  const code = `
import sys, json
from kafka.record.legacy_records import LegacyRecordBatchBuilder
spec = json.load(sys.stdin)
b = LegacyRecordBatchBuilder(spec['magic'], spec['codec'], 1 << 24)
for i, m in enumerate(spec['messages']):
    k = None if m['key'] is None else m['key'].encode()
    v = None if m['value'] is None else m['value'].encode()
    b.append(i, m['timestamp'] if spec['magic'] == 1 else None, k, v)
sys.stdout.buffer.write(bytes(b.build()))
`;
  return python(code, Buffer.from(JSON.stringify({ magic, codec, messages })));
}

const MESSAGES: Message[] = [
  { key: 'k0', value: 'first', timestamp: 1_700_000_000_000 },
  { key: null, value: 'no key', timestamp: 1_700_000_000_005 },
  { key: 'tombstone', value: null, timestamp: 1_700_000_000_009 },
  { key: 'k3', value: 'x'.repeat(5000), timestamp: 1_700_000_000_011 },
];

const LEGACY_CODECS = [CompressionType.None, CompressionType.Gzip, CompressionType.Snappy];

describe('upConvertMessageSet', () => {
  for (const magic of [0, 1] as const) {
    for (const codec of LEGACY_CODECS) {
      test(`magic ${magic}, ${COMPRESSION_NAMES[codec]}: same records in one batch v2`, () => {
        const converted = upConvertMessageSet(legacySet(magic, codec, MESSAGES));
        assert.equal(converted.magic, magic);
        assert.equal(converted.recordCount, MESSAGES.length);
        const { header, records } = decodeRecordBatch(converted.batch);
        assert.equal(header.compression, codec);
        assert.equal(header.producerId, -1);
        assert.deepEqual(
          records.map((r) => ({
            offset: r.offset,
            key: r.key?.toString() ?? null,
            value: r.value?.toString() ?? null,
            timestamp: r.timestamp,
          })),
          MESSAGES.map((m, i) => ({
            offset: i,
            key: m.key,
            value: m.value,
            // Magic 0 has no timestamps: stored as -1, as Kafka does.
            timestamp: magic === 0 ? -1 : m.timestamp,
          })),
        );
      });
    }
  }

  test('a flipped byte fails the CRC-32: CORRUPT_MESSAGE', () => {
    const buf = legacySet(1, CompressionType.None, MESSAGES);
    buf[buf.length - 1] ^= 0xff;
    assertCorrupt(() => upConvertMessageSet(buf), 'flipped byte');
  });

  test('a truncated message set: CORRUPT_MESSAGE', () => {
    const buf = legacySet(0, CompressionType.Gzip, MESSAGES);
    assertCorrupt(() => upConvertMessageSet(buf.subarray(0, buf.length - 3)), 'truncated');
    assertCorrupt(() => upConvertMessageSet(Buffer.alloc(0)), 'empty');
  });

  test('a record batch v2 in its place: INVALID_RECORD naming the magic', () => {
    const batch = encodeRecordBatch({ records: [{ value: Buffer.from('v') }] });
    assert.throws(
      () => upConvertMessageSet(batch),
      (err: unknown) =>
        err instanceof KafkaProtocolError &&
        err.code === ErrorCode.INVALID_RECORD &&
        /magic 2/.test(err.message),
    );
  });
});

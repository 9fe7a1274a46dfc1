import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import {
  decodeCheckpoint,
  decodeHeartbeat,
  decodeOffsetSync,
  encodeCheckpointKey,
  encodeCheckpointValue,
  encodeHeartbeatKey,
  encodeHeartbeatValue,
  encodeOffsetSyncKey,
  encodeOffsetSyncValue,
} from './mm2-formats';

test('MM2 records: bytes worked out by hand from the Struct schemas', () => {
  // OffsetSync key: STRING "t" (00 01 74), INT32 2; value: INT64 5, INT64 9.
  assert.equal(encodeOffsetSyncKey({ topic: 't', partition: 2 }).toString('hex'), '00017400000002');
  assert.equal(
    encodeOffsetSyncValue({ upstreamOffset: 5, offset: 9 }).toString('hex'),
    '0000000000000005' + '0000000000000009',
  );
  // Checkpoint key: "g", "t", 1; value: version 0, 10, 7, metadata "".
  assert.equal(
    encodeCheckpointKey({ group: 'g', topic: 't', partition: 1 }).toString('hex'),
    '0001670001740000' + '0001',
  );
  assert.equal(
    encodeCheckpointValue({ upstreamOffset: 10, offset: 7, metadata: '' }).toString('hex'),
    '0000' + '000000000000000a' + '0000000000000007' + '0000',
  );
  // Heartbeat key: "a", "b"; value: version 0, timestamp 1.
  assert.equal(
    encodeHeartbeatKey({ sourceClusterAlias: 'a', targetClusterAlias: 'b' }).toString('hex'),
    '000161' + '000162',
  );
  assert.equal(encodeHeartbeatValue({ timestamp: 1 }).toString('hex'), '0000' + '0000000000000001');
});

test('round trips, and truncated or unknown-version values are refused', () => {
  const key = encodeCheckpointKey({ group: 'orders-app', topic: 'dc1.orders', partition: 4 });
  const value = encodeCheckpointValue({ upstreamOffset: 1234567890123, offset: 99, metadata: 'm' });
  assert.deepEqual(decodeCheckpoint(key, value), {
    group: 'orders-app',
    topic: 'dc1.orders',
    partition: 4,
    upstreamOffset: 1234567890123,
    offset: 99,
    metadata: 'm',
  });
  assert.deepEqual(
    decodeOffsetSync(
      encodeOffsetSyncKey({ topic: 'x', partition: 0 }),
      encodeOffsetSyncValue({ upstreamOffset: 1, offset: 2 }),
    ),
    {
      topic: 'x',
      partition: 0,
      upstreamOffset: 1,
      offset: 2,
    },
  );
  assert.throws(() => decodeCheckpoint(key, value.subarray(0, 10)), /CORRUPT_MESSAGE/);
  const v1 = Buffer.from(value);
  v1.writeInt16BE(1, 0);
  assert.throws(() => decodeCheckpoint(key, v1), /unknown checkpoint version 1/);
  assert.throws(
    () => decodeHeartbeat(Buffer.from('00', 'hex'), encodeHeartbeatValue({ timestamp: 1 })),
    /CORRUPT_MESSAGE/,
  );
});

test('a reader written elsewhere (Python struct, from the MM2 schema) decodes our checkpoints', () => {
  const key = encodeCheckpointKey({ group: 'g-1', topic: 'dc1.orders', partition: 2 });
  const value = encodeCheckpointValue({ upstreamOffset: 77, offset: 70, metadata: 'meta' });
  const script = `
import struct, sys, json
key, value = (bytes.fromhex(x) for x in sys.argv[1:3])
def string(b, i):
    (n,) = struct.unpack_from('>h', b, i); return b[i+2:i+2+n].decode(), i + 2 + n
g, i = string(key, 0); t, i = string(key, i); (p,) = struct.unpack_from('>i', key, i)
(version, up, off) = struct.unpack_from('>hqq', value, 0); meta, _ = string(value, 18)
print(json.dumps([g, t, p, version, up, off, meta]))`;
  const out = execFileSync('/usr/bin/python3', [
    '-c',
    script,
    key.toString('hex'),
    value.toString('hex'),
  ]).toString();
  assert.deepEqual(JSON.parse(out), ['g-1', 'dc1.orders', 2, 0, 77, 70, 'meta']);
});

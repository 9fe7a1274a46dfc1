import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiVersions, Produce } from './apis';
import {
  decodeRequestBody,
  decodeRequestHeader,
  decodeResponse,
  encodeRequest,
  encodeResponse,
} from './headers';
import { Reader } from './primitives/reader';
import { ErrorCode } from './error-codes';
import { KafkaProtocolError } from './errors';
import { codecFor } from './codec';

const join = (chunks: Buffer[]) => Buffer.concat(chunks);

test('ApiVersions v0 request is a v1 header with an empty body', () => {
  const frame = join(encodeRequest(ApiVersions, 0, 7, 'c', {}));
  // size 10 | key 18 | version 0 | correlation 7 | clientId "c"
  assert.deepEqual(frame, Buffer.from('0000000b' + '0012' + '0000' + '00000007' + '000163', 'hex'));
});

test('ApiVersions v3 request uses header v2 and compact strings', () => {
  const frame = join(
    encodeRequest(ApiVersions, 3, 1, 'k', { clientSoftwareName: 'ab', clientSoftwareVersion: '1' }),
  );
  // header: key 18, v3, corr 1, clientId int16 "k", no tags (00); body: compact "ab" (03 61 62), "1" (02 31), no tags
  const expected = Buffer.from(
    '0012' + '0003' + '00000001' + '00016b' + '00' + '036162' + '0231' + '00',
    'hex',
  );
  assert.equal(frame.readInt32BE(0), expected.length);
  assert.deepEqual(frame.subarray(4), expected);

  const r = new Reader(frame, 4);
  const header = decodeRequestHeader(r);
  assert.deepEqual(header, { apiKey: 18, apiVersion: 3, correlationId: 1, clientId: 'k' });
  assert.deepEqual(decodeRequestBody(ApiVersions, 3, r), {
    clientSoftwareName: 'ab',
    clientSoftwareVersion: '1',
  });
});

test('ApiVersions v3 response keeps header v0 (no tag byte) and writes tagged fields only when set', () => {
  const frame = join(
    encodeResponse(ApiVersions, 3, 9, {
      errorCode: 0,
      apiKeys: [{ apiKey: 0, minVersion: 3, maxVersion: 9 }],
    }),
  );
  // corr 9 | error 0 | compact array of 1 (02) | key 0, 3, 9, no tags | throttle 0 | no tags
  const body = '00000009' + '0000' + '02' + '0000' + '0003' + '0009' + '00' + '00000000' + '00';
  assert.deepEqual(frame.subarray(4).toString('hex'), body);
  const decoded = decodeResponse(ApiVersions, 3, frame.subarray(4));
  assert.equal(decoded.correlationId, 9);
  assert.equal(decoded.body.finalizedFeaturesEpoch, -1);
  assert.deepEqual(decoded.body.supportedFeatures, []);
});

test('tagged fields round-trip and unknown tags are skipped', () => {
  const frame = join(
    encodeResponse(ApiVersions, 3, 1, { errorCode: 0, apiKeys: [], finalizedFeaturesEpoch: 5 }),
  );
  const hex = frame.subarray(4).toString('hex');
  // ... throttle 0 | 1 tag: tag 1, size 8, int64 5
  assert.ok(hex.endsWith('00000000' + '01' + '01' + '08' + '0000000000000005'), hex);
  assert.equal(decodeResponse(ApiVersions, 3, frame.subarray(4)).body.finalizedFeaturesEpoch, 5);

  const withUnknown = Buffer.from(
    '00000001' + '0000' + '01' + '00000000' + '01' + '07' + '02' + 'abcd',
    'hex',
  );
  const body = decodeResponse(ApiVersions, 3, withUnknown).body;
  assert.deepEqual(body.apiKeys, []);
});

test('Produce v3 request carries records as a subarray of the frame', () => {
  const records = Buffer.alloc(2000, 7);
  const frame = join(
    encodeRequest(Produce, 3, 5, null, {
      acks: -1,
      timeoutMs: 1000,
      topicData: [{ name: 't', partitionData: [{ index: 2, records }] }],
    }),
  );
  const r = new Reader(frame, 4);
  decodeRequestHeader(r);
  const body = decodeRequestBody(Produce, 3, r) as {
    transactionalId: unknown;
    topicData: { partitionData: { records: Buffer }[] }[];
  };
  assert.equal(body.transactionalId, null);
  const got = body.topicData[0].partitionData[0].records;
  assert.deepEqual(got, records);
  assert.equal(got.buffer, frame.buffer, 'records are not copied');
});

test('int64 fields keep negative values and values above 2^32', () => {
  for (const v of [-1, 0, 2 ** 32 + 5, 2 ** 53 - 1, -(2 ** 40)]) {
    const frame = join(
      encodeResponse(Produce, 5, 0, {
        responses: [{ name: 'x', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: v }] }],
      }),
    );
    const body = decodeResponse(Produce, 5, frame.subarray(4)).body as {
      responses: { partitionResponses: { baseOffset: number; logStartOffset: number }[] }[];
    };
    assert.equal(body.responses[0].partitionResponses[0].baseOffset, v);
    assert.equal(body.responses[0].partitionResponses[0].logStartOffset, -1);
  }
});

test('an unsupported version is UNSUPPORTED_VERSION; a truncated body is INVALID_REQUEST', () => {
  assert.throws(
    () => codecFor(Produce, 10),
    (e: unknown) => e instanceof KafkaProtocolError && e.code === ErrorCode.UNSUPPORTED_VERSION,
  );
  const frame = join(
    encodeRequest(Produce, 3, 5, null, {
      acks: 1,
      timeoutMs: 1,
      topicData: [{ name: 'abc', partitionData: [] }],
    }),
  );
  const truncated = frame.subarray(0, frame.length - 3);
  const r = new Reader(truncated, 4);
  decodeRequestHeader(r);
  assert.throws(
    () => decodeRequestBody(Produce, 3, r),
    (e: unknown) => e instanceof KafkaProtocolError && e.code === ErrorCode.INVALID_REQUEST,
  );
});

test('an array length that lies is refused before allocating', () => {
  const r = new Reader(Buffer.from('ffff' + '0001' + '000003e8' + '7fffffff', 'hex'));
  assert.throws(() => codecFor(Produce, 3).request.decode(r), /array length/);
});

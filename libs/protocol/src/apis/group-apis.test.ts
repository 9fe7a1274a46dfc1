import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ALL_APIS,
  AlterPartitionReassignments,
  AlterUserScramCredentials,
  apiByKey,
  CreateAcls,
  DeleteAcls,
  DeleteGroups,
  DescribeAcls,
  DescribeGroups,
  DescribeLogDirs,
  DescribeUserScramCredentials,
  ElectLeaders,
  FindCoordinator,
  Heartbeat,
  InitProducerId,
  JoinGroup,
  LeaveGroup,
  ListGroups,
  ListPartitionReassignments,
  OffsetCommit,
  OffsetDelete,
  OffsetFetch,
  OffsetForLeaderEpoch,
  SyncGroup,
} from './index';
import {
  decodeRequestBody,
  decodeRequestHeader,
  decodeResponse,
  encodeRequest,
  encodeResponse,
} from '../headers';
import { Reader } from '../primitives/reader';
import { inRange, parseVersions } from '../primitives/versions';
import type { ApiDefinition, Field, Fields, Primitive, ScalarField, StructField } from '../schema';

/*
 * Golden vectors for the group, transaction-bootstrap, reassignment, log-dir, ACL and SCRAM
 * APIs, written out byte by byte from Kafka's message schemas (field order, which versions
 * hold which field, nullability) and the protocol guide's encodings: classic versions use
 * int16 string lengths (-1 = null), int32 byte and array lengths (-1 = null); flexible
 * versions use uvarint length+1 (0 = null) and end each struct with a tagged-field count.
 * Request header v1 = key, version, correlation id, int16 client id; v2 adds a tag count.
 * Response header v0 = correlation id; v1 adds a tag count.
 */

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function requestFrame(
  api: ApiDefinition,
  v: number,
  corr: number,
  clientId: string | null,
  body: object,
): Buffer {
  const frame = Buffer.concat(encodeRequest(api, v, corr, clientId, body));
  assert.equal(frame.readInt32BE(0), frame.length - 4, 'size prefix');
  return frame.subarray(4);
}

function responseFrame(api: ApiDefinition, v: number, corr: number, body: object): Buffer {
  const frame = Buffer.concat(encodeResponse(api, v, corr, body));
  assert.equal(frame.readInt32BE(0), frame.length - 4, 'size prefix');
  return frame.subarray(4);
}

function decodeRequest(api: ApiDefinition, v: number, payload: Buffer): Record<string, unknown> {
  const r = new Reader(payload);
  const header = decodeRequestHeader(r);
  assert.equal(header.apiKey, api.apiKey);
  assert.equal(header.apiVersion, v);
  const body = decodeRequestBody(api, v, r);
  assert.equal(r.remaining, 0, 'request body fully consumed');
  return body;
}

// ---------------------------------------------------------------- golden vectors

test('JoinGroup v5 request: groupInstanceId, consumer-protocol metadata as int32-length bytes', () => {
  // ConsumerProtocolSubscription v0: version 0, topics ["t"], userData null
  const subscription = hex('0000 00000001 0001 74 ffffffff');
  const body = {
    groupId: 'g',
    sessionTimeoutMs: 10000,
    rebalanceTimeoutMs: 300000,
    memberId: '',
    groupInstanceId: 'i1',
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: subscription }],
  };
  const payload = requestFrame(JoinGroup, 5, 1, 'c', body);
  const expected =
    '000b 0005 00000001 0001 63' + // header v1: key 11, v5, corr 1, client "c"
    '0001 67' + // groupId "g"
    '00002710' + // sessionTimeoutMs 10000
    '000493e0' + // rebalanceTimeoutMs 300000 (v1+)
    '0000' + // memberId "" (first join)
    '0002 6931' + // groupInstanceId "i1" (v5+)
    '0008 636f6e73756d6572' + // protocolType "consumer"
    '00000001' + // 1 protocol
    '0005 72616e6765' + // name "range"
    '0000000d' + // metadata: 13 bytes
    '0000 00000001 0001 74 ffffffff'; // ... the subscription
  assert.deepEqual(payload, hex(expected));
  assert.deepEqual(decodeRequest(JoinGroup, 5, payload), { ...body, reason: null });

  // omitted groupInstanceId is null (ffff), not ""
  const anonymous = requestFrame(JoinGroup, 5, 1, 'c', { ...body, groupInstanceId: undefined });
  assert.deepEqual(anonymous.subarray(24, 26), hex('ffff'));
  assert.equal(decodeRequest(JoinGroup, 5, anonymous).groupInstanceId, null);
});

test('JoinGroup v0 request has no rebalanceTimeoutMs; it decodes as -1', () => {
  const payload = requestFrame(JoinGroup, 0, 2, 'c', {
    groupId: 'g',
    sessionTimeoutMs: 6000,
    memberId: '',
    protocolType: 'consumer',
    protocols: [],
  });
  assert.deepEqual(
    payload,
    hex('000b 0000 00000002 0001 63 0001 67 00001770 0000 0008 636f6e73756d6572 00000000'),
  );
  const body = decodeRequest(JoinGroup, 0, payload);
  assert.equal(body.rebalanceTimeoutMs, -1);
  assert.equal(body.groupInstanceId, null);
});

test('JoinGroup v6 response is flexible: header v1, compact strings and bytes, tag counts', () => {
  const payload = responseFrame(JoinGroup, 6, 7, {
    throttleTimeMs: 0,
    errorCode: 0,
    generationId: 1,
    protocolName: 'range',
    leader: 'm1',
    memberId: 'm1',
    members: [{ memberId: 'm1', groupInstanceId: null, metadata: hex('cafe') }],
  });
  const expected =
    '00000007 00' + // response header v1: corr 7, no tags
    '00000000' + // throttleTimeMs
    '0000' + // errorCode
    '00000001' + // generationId 1
    '06 72616e6765' + // protocolName "range" (no protocolType before v7)
    '03 6d31' + // leader "m1"
    '03 6d31' + // memberId "m1" (no skipAssignment before v9)
    '02' + // 1 member
    '03 6d31' + // memberId "m1"
    '00' + // groupInstanceId null
    '03 cafe' + // metadata, 2 bytes
    '00' + // member tags
    '00'; // body tags
  assert.deepEqual(payload, hex(expected));
  const { correlationId, body } = decodeResponse(JoinGroup, 6, payload);
  assert.equal(correlationId, 7);
  assert.deepEqual(body, {
    throttleTimeMs: 0,
    errorCode: 0,
    generationId: 1,
    protocolType: null,
    protocolName: 'range',
    leader: 'm1',
    skipAssignment: false,
    memberId: 'm1',
    members: [{ memberId: 'm1', groupInstanceId: null, metadata: hex('cafe') }],
  });
});

test('JoinGroup v7 response: protocolType appears and protocolName may be null', () => {
  const payload = responseFrame(JoinGroup, 7, 1, {
    errorCode: 79, // MEMBER_ID_REQUIRED
    protocolType: 'consumer',
    protocolName: null,
    leader: '',
    memberId: 'm-1',
    members: [],
  });
  const expected =
    '00000001 00' +
    '00000000 004f ffffffff' + // throttle, MEMBER_ID_REQUIRED, generationId -1 by default
    '09 636f6e73756d6572' + // protocolType "consumer"
    '00' + // protocolName null
    '01' + // leader ""
    '04 6d2d31' + // memberId "m-1"
    '01' + // no members
    '00';
  assert.deepEqual(payload, hex(expected));
});

test('SyncGroup v3 request: the leader sends a consumer-protocol assignment per member', () => {
  // ConsumerProtocolAssignment v0: version 0, [t: [0, 1]], userData null
  const assignment = hex('0000 00000001 0001 74 00000002 00000000 00000001 ffffffff');
  const body = {
    groupId: 'g',
    generationId: 1,
    memberId: 'm1',
    groupInstanceId: null,
    assignments: [{ memberId: 'm1', assignment }],
  };
  const payload = requestFrame(SyncGroup, 3, 2, 'c', body);
  const expected =
    '000e 0003 00000002 0001 63' + // header v1: key 14, v3
    '0001 67' + // groupId "g"
    '00000001' + // generationId 1
    '0002 6d31' + // memberId "m1"
    'ffff' + // groupInstanceId null (v3+)
    '00000001' + // 1 assignment
    '0002 6d31' + // memberId "m1"
    '00000019' + // 25 bytes
    '0000 00000001 0001 74 00000002 00000000 00000001 ffffffff';
  assert.deepEqual(payload, hex(expected));
  assert.deepEqual(decodeRequest(SyncGroup, 3, payload), {
    ...body,
    protocolType: null,
    protocolName: null,
  });
});

test('SyncGroup v5 response: protocol type and name before the assignment', () => {
  const payload = responseFrame(SyncGroup, 5, 3, {
    errorCode: 0,
    protocolType: 'consumer',
    protocolName: 'range',
    assignment: hex('00'),
  });
  assert.deepEqual(payload, hex('00000003 00 00000000 0000 09636f6e73756d6572 0672616e6765 0200 00'));
});

test('OffsetCommit v2 request: generation, member and retentionTimeMs, no leader epoch', () => {
  const payload = requestFrame(OffsetCommit, 2, 3, 'c', {
    groupId: 'g',
    generationIdOrMemberEpoch: 5,
    memberId: 'm1',
    topics: [
      {
        name: 't',
        partitions: [
          { partitionIndex: 0, committedOffset: 42, committedMetadata: null },
          { partitionIndex: 1, committedOffset: 2 ** 32 + 1, committedMetadata: 'x' },
        ],
      },
    ],
  });
  const expected =
    '0008 0002 00000003 0001 63' + // header v1: key 8, v2
    '0001 67' + // groupId "g"
    '00000005' + // generationIdOrMemberEpoch 5 (v1+)
    '0002 6d31' + // memberId "m1" (v1+)
    'ffffffffffffffff' + // retentionTimeMs -1 by default (v2-4)
    '00000001 0001 74' + // 1 topic "t"
    '00000002' + // 2 partitions
    '00000000 000000000000002a ffff' + // p0: offset 42, metadata null
    '00000001 0000000100000001 0001 78'; // p1: offset 2^32+1, metadata "x"
  assert.deepEqual(payload, hex(expected));
  const body = decodeRequest(OffsetCommit, 2, payload);
  assert.equal(body.retentionTimeMs, -1);
  assert.equal(body.groupInstanceId, null);
  assert.deepEqual((body.topics as { partitions: unknown[] }[])[0].partitions, [
    {
      partitionIndex: 0,
      committedOffset: 42,
      committedLeaderEpoch: -1,
      commitTimestamp: -1,
      committedMetadata: null,
    },
    {
      partitionIndex: 1,
      committedOffset: 2 ** 32 + 1,
      committedLeaderEpoch: -1,
      commitTimestamp: -1,
      committedMetadata: 'x',
    },
  ]);
});

test('OffsetCommit v1 request carries commitTimestamp, and no retentionTimeMs', () => {
  const payload = requestFrame(OffsetCommit, 1, 4, 'c', {
    groupId: 'g',
    generationIdOrMemberEpoch: 2,
    memberId: '',
    topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: '' }] }],
  });
  assert.deepEqual(
    payload,
    hex(
      '0008 0001 00000004 0001 63 0001 67 00000002 0000' +
        '00000001 0001 74 00000001 00000000 0000000000000001 ffffffffffffffff 0000',
    ),
  );
});

test('OffsetFetch v1 response: per-partition offsets and metadata, no throttle or top-level error', () => {
  const payload = responseFrame(OffsetFetch, 1, 4, {
    topics: [
      {
        name: 't',
        partitions: [
          { partitionIndex: 0, committedOffset: 42, metadata: '', errorCode: 0 },
          { partitionIndex: 1, committedOffset: -1, metadata: null, errorCode: 3 },
        ],
      },
    ],
  });
  const expected =
    '00000004' + // response header v0
    '00000001 0001 74' + // 1 topic "t"
    '00000002' + // 2 partitions
    '00000000 000000000000002a 0000 0000' + // p0: offset 42, metadata "", no error
    '00000001 ffffffffffffffff ffff 0003'; // p1: no offset, metadata null, UNKNOWN_TOPIC_OR_PARTITION
  assert.deepEqual(payload, hex(expected));
  assert.deepEqual(decodeResponse(OffsetFetch, 1, payload).body, {
    throttleTimeMs: 0,
    topics: [
      {
        name: 't',
        partitions: [
          { partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
          { partitionIndex: 1, committedOffset: -1, committedLeaderEpoch: -1, metadata: null, errorCode: 3 },
        ],
      },
    ],
    errorCode: 0,
    groups: [],
  });
});

test('OffsetFetch v2 request: a null topic array (all topics) is not an empty one', () => {
  const header = '0009 0002 00000005 0001 63 0001 67';
  assert.deepEqual(
    requestFrame(OffsetFetch, 2, 5, 'c', { groupId: 'g', topics: null }),
    hex(header + 'ffffffff'),
  );
  assert.deepEqual(
    requestFrame(OffsetFetch, 2, 5, 'c', { groupId: 'g', topics: [] }),
    hex(header + '00000000'),
  );
  assert.equal(decodeRequest(OffsetFetch, 2, hex(header + 'ffffffff')).topics, null);
});

test('OffsetFetch v8 request batches groups; a group with null topics asks for all', () => {
  const payload = requestFrame(OffsetFetch, 8, 8, 'c', {
    groups: [
      { groupId: 'g', topics: null },
      { groupId: 'h', topics: [{ name: 't', partitionIndexes: [0, 2] }] },
    ],
    requireStable: true,
  });
  const expected =
    '0009 0008 00000008 0001 63 00' + // header v2
    '03' + // 2 groups (no top-level groupId or topics in v8)
    '02 67 00 00' + // "g", null topics, group tags
    '02 68 02 02 74 03 00000000 00000002 00 00' + // "h", 1 topic "t" [0, 2], topic tags, group tags
    '01' + // requireStable
    '00';
  assert.deepEqual(payload, hex(expected));
  const body = decodeRequest(OffsetFetch, 8, payload);
  assert.equal(body.groupId, '');
  assert.deepEqual(body.topics, []);
  assert.deepEqual(body.groups, [
    { groupId: 'g', topics: null },
    { groupId: 'h', topics: [{ name: 't', partitionIndexes: [0, 2] }] },
  ]);
});

test('FindCoordinator v0 request and response', () => {
  assert.deepEqual(
    requestFrame(FindCoordinator, 0, 5, 'c', { key: 'g' }),
    hex('000a 0000 00000005 0001 63 0001 67'), // no keyType before v1
  );
  const payload = responseFrame(FindCoordinator, 0, 5, {
    errorCode: 0,
    nodeId: 1,
    host: 'localhost',
    port: 9092,
  });
  const expected =
    '00000005' + // header v0
    '0000' + // errorCode (no throttle before v1)
    '00000001' + // nodeId 1
    '0009 6c6f63616c686f7374' + // host "localhost"
    '00002384'; // port 9092
  assert.deepEqual(payload, hex(expected));
  assert.deepEqual(decodeResponse(FindCoordinator, 0, payload).body, {
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: '',
    nodeId: 1,
    host: 'localhost',
    port: 9092,
    coordinators: [],
  });
});

test('FindCoordinator v4 batches coordinator keys', () => {
  const req = requestFrame(FindCoordinator, 4, 6, 'c', { keyType: 1, coordinatorKeys: ['g1', 'g2'] });
  // header v2 | keyType TRANSACTION | 2 keys | tags (no single key in v4)
  assert.deepEqual(req, hex('000a 0004 00000006 0001 63 00 01 03 036731 036732 00'));
  const res = responseFrame(FindCoordinator, 4, 6, {
    coordinators: [{ key: 'g1', nodeId: 2, host: 'h', port: 9093, errorCode: 0, errorMessage: null }],
  });
  const expected =
    '00000006 00' + // header v1
    '00000000' + // throttleTimeMs (no top-level error, node, host or port in v4)
    '02' + // 1 coordinator
    '03 6731 00000002 02 68 00002385 0000 00 00' + // key, node 2, host "h", port 9093, no error, null message, tags
    '00';
  assert.deepEqual(res, hex(expected));
});

test('InitProducerId v2 request is flexible: header v2, compact nullable transactionalId', () => {
  const idempotent = requestFrame(InitProducerId, 2, 6, 'c', {
    transactionalId: null,
    transactionTimeoutMs: 60000,
  });
  const expected =
    '0016 0002 00000006 0001 63 00' + // header v2: key 22, v2, no tags
    '00' + // transactionalId null
    '0000ea60' + // transactionTimeoutMs 60000
    '00'; // tags (no producerId/epoch before v3)
  assert.deepEqual(idempotent, hex(expected));
  assert.deepEqual(decodeRequest(InitProducerId, 2, idempotent), {
    transactionalId: null,
    transactionTimeoutMs: 60000,
    producerId: -1,
    producerEpoch: -1,
  });
  const transactional = requestFrame(InitProducerId, 2, 6, 'c', {
    transactionalId: 'tx',
    transactionTimeoutMs: 60000,
  });
  assert.deepEqual(transactional, hex('0016 0002 00000006 0001 63 00 03 7478 0000ea60 00'));
});

test('InitProducerId v3 request: producerId and producerEpoch default to -1', () => {
  const payload = requestFrame(InitProducerId, 3, 1, 'c', { transactionalId: null, transactionTimeoutMs: 1 });
  assert.deepEqual(payload, hex('0016 0003 00000001 0001 63 00 00 00000001 ffffffffffffffff ffff 00'));
});

test('InitProducerId v0 response', () => {
  const payload = responseFrame(InitProducerId, 0, 2, {
    throttleTimeMs: 0,
    errorCode: 0,
    producerId: 1000,
    producerEpoch: 0,
  });
  assert.deepEqual(payload, hex('00000002 00000000 0000 00000000000003e8 0000'));
});

test('LeaveGroup v3 request: a batch of member identities', () => {
  const payload = requestFrame(LeaveGroup, 3, 9, 'c', {
    groupId: 'g',
    members: [{ memberId: 'm1', groupInstanceId: null }],
  });
  // no single memberId from v3; each member: id, group instance id (no reason before v5)
  assert.deepEqual(payload, hex('000d 0003 00000009 0001 63 0001 67 00000001 0002 6d31 ffff'));
});

test('OffsetForLeaderEpoch v3 request: replicaId defaults to -2 (debug consumer)', () => {
  const payload = requestFrame(OffsetForLeaderEpoch, 3, 1, 'c', {
    topics: [{ topic: 't', partitions: [{ partition: 0, leaderEpoch: 4 }] }],
  });
  assert.deepEqual(
    payload,
    hex('0017 0003 00000001 0001 63 fffffffe 00000001 0001 74 00000001 00000000 ffffffff 00000004'),
  );
});

test('ListPartitionReassignments v0 request: null topics and timeoutMs 60000 by default', () => {
  assert.deepEqual(
    requestFrame(ListPartitionReassignments, 0, 1, 'c', {}),
    hex('002e 0000 00000001 0001 63 00 0000ea60 00 00'),
  );
});

test('DescribeAcls v1 request: null filters and patternTypeFilter 3 (LITERAL) by default', () => {
  const payload = requestFrame(DescribeAcls, 1, 1, 'c', {
    resourceTypeFilter: 2,
    resourceNameFilter: null,
    principalFilter: 'User:a',
    hostFilter: null,
    operation: 1,
    permissionType: 1,
  });
  assert.deepEqual(payload, hex('001d 0001 00000001 0001 63 02 ffff 03 0006 557365723a61 ffff 01 01'));
});

// ---------------------------------------------------------------- registry

const OURS: readonly ApiDefinition[] = [
  FindCoordinator,
  JoinGroup,
  SyncGroup,
  Heartbeat,
  LeaveGroup,
  OffsetCommit,
  OffsetFetch,
  ListGroups,
  DescribeGroups,
  DeleteGroups,
  OffsetDelete,
  InitProducerId,
  OffsetForLeaderEpoch,
  AlterPartitionReassignments,
  ListPartitionReassignments,
  ElectLeaders,
  DescribeLogDirs,
  CreateAcls,
  DescribeAcls,
  DeleteAcls,
  DescribeUserScramCredentials,
  AlterUserScramCredentials,
];

test('every definition is registered under its key, with the versions we implement', () => {
  const got = OURS.map((api) => [api.apiKey, api.versions]);
  assert.deepEqual(got, [
    [10, '0-4'],
    [11, '0-9'],
    [14, '0-5'],
    [12, '0-4'],
    [13, '0-5'],
    [8, '0-8'],
    [9, '0-8'],
    [16, '0-4'],
    [15, '0-5'],
    [42, '0-2'],
    [47, '0'],
    [22, '0-4'],
    [23, '0-4'],
    [45, '0'],
    [46, '0'],
    [43, '0-2'],
    [35, '0-4'],
    [30, '0-3'],
    [29, '0-3'],
    [31, '0-3'],
    [50, '0'],
    [51, '0'],
  ]);
  for (const api of OURS) {
    assert.equal(apiByKey(api.apiKey), api, api.name);
    assert.equal(ALL_APIS.filter((a) => a.apiKey === api.apiKey).length, 1, `${api.name} listed once`);
  }
});

// ---------------------------------------------------------------- round trips

type Spec = ScalarField | StructField;
const norm = (f: Field): Spec => (typeof f === 'string' ? { type: f } : f);
const presentAt = (f: Spec, v: number): boolean => inRange(parseVersions(f.versions), v);
const nullableAt = (f: Spec, v: number): boolean =>
  f.nullable !== undefined && inRange(parseVersions(f.nullable), v);

let seq = 0;

/** A value unlike any default here: defaults are 0, -1, -2, 3, 60000, -2^31, false, '', null. */
function sample(type: Primitive, f: Spec): unknown {
  seq++;
  switch (type) {
    case 'int8':
      return (seq % 100) + 4;
    case 'int16':
      return 1000 + seq;
    case 'uint16':
      return 40000 + seq;
    case 'int32':
      return seq % 2 ? 100000 + seq : -100000 - seq;
    case 'uint32':
      return 3_000_000_000 + seq;
    case 'int64':
      return seq % 2 ? 2 ** 40 + seq : -(2 ** 35) - seq;
    case 'float64':
      return seq + 0.5;
    case 'bool':
      return f.default !== true;
    case 'string':
      return `s${seq}-é`;
    case 'bytes':
      return Buffer.from([seq & 0xff, 1, 2]);
    case 'records':
      return Buffer.alloc(20, seq & 0xff);
    case 'uuid': {
      const b = Buffer.alloc(16, 0x11);
      b.writeUInt32BE(seq, 12);
      return b.toString('base64url');
    }
  }
}

function sampleField(f: Spec, v: number): unknown {
  if (f.type === 'struct[]') {
    const fields = f.fields;
    return [sampleStruct(fields, v), sampleStruct(fields, v)];
  }
  if (f.type === 'struct') return sampleStruct(f.fields, v);
  if (f.type.endsWith('[]')) {
    const item = f.type.slice(0, -2) as Primitive;
    return [sample(item, f), sample(item, f), sample(item, f)];
  }
  return sample(f.type as Primitive, f);
}

/** A message holding a non-default value in every field present in version v. */
function sampleStruct(fields: Fields, v: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(fields)) {
    const f = norm(raw);
    if (presentAt(f, v)) out[name] = sampleField(f, v);
  }
  return out;
}

/** The same message with every field that is nullable in version v set to null. */
function withNulls(fields: Fields, value: Record<string, unknown>, v: number): Record<string, unknown> {
  const out: Record<string, unknown> = { ...value };
  for (const [name, raw] of Object.entries(fields)) {
    const f = norm(raw);
    if (!presentAt(f, v)) continue;
    if (nullableAt(f, v)) out[name] = null;
    else if (f.type === 'struct') out[name] = withNulls(f.fields, out[name] as never, v);
    else if (f.type === 'struct[]') {
      out[name] = (out[name] as Record<string, unknown>[]).map((x) => withNulls(f.fields, x, v));
    }
  }
  return out;
}

function countNullable(fields: Fields, v: number): number {
  let n = 0;
  for (const raw of Object.values(fields)) {
    const f = norm(raw);
    if (!presentAt(f, v)) continue;
    if (nullableAt(f, v)) n++;
    if (f.type === 'struct' || f.type === 'struct[]') n += countNullable(f.fields, v);
  }
  return n;
}

/** What a field absent from version v decodes as: its declared default, else the type's zero value. */
function absentDefault(f: Spec, v: number): unknown {
  const nullable = nullableAt(f, v);
  if (f.default !== undefined) return f.default;
  if (f.type === 'struct') return fillDefaults(f.fields, {}, -1);
  if (f.type.endsWith('[]')) return [];
  switch (f.type as Primitive) {
    case 'bool':
      return false;
    case 'string':
      return nullable ? null : '';
    case 'bytes':
      return nullable ? null : Buffer.alloc(0);
    case 'records':
      return null;
    case 'uuid':
      return 'AAAAAAAAAAAAAAAAAAAAAA';
    default:
      return 0;
  }
}

/** The input with every field absent in version v filled in (v = -1: every field absent). */
function fillDefaults(fields: Fields, value: Record<string, unknown>, v: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(fields)) {
    const f = norm(raw);
    if (v < 0 || !presentAt(f, v)) {
      out[name] = absentDefault(f, v);
      continue;
    }
    const x = value[name];
    if (x !== null && f.type === 'struct') out[name] = fillDefaults(f.fields, x as never, v);
    else if (x !== null && f.type === 'struct[]') {
      out[name] = (x as Record<string, unknown>[]).map((e) => fillDefaults(f.fields, e, v));
    } else out[name] = x;
  }
  return out;
}

function roundTrip(
  api: ApiDefinition,
  v: number,
  request: Record<string, unknown>,
  response: Record<string, unknown>,
) {
  const reqPayload = requestFrame(api, v, 77, 'rt', request);
  assert.deepEqual(
    decodeRequest(api, v, reqPayload),
    fillDefaults(api.request, request, v),
    `${api.name} v${v} request`,
  );
  const resPayload = responseFrame(api, v, 78, response);
  const decoded = decodeResponse(api, v, resPayload);
  assert.equal(decoded.correlationId, 78);
  assert.deepEqual(decoded.body, fillDefaults(api.response, response, v), `${api.name} v${v} response`);
}

for (const api of OURS) {
  const { min, max } = parseVersions(api.versions);
  for (let v = min; v <= max; v++) {
    test(`${api.name} v${v} round-trips every field with non-default values`, () => {
      roundTrip(api, v, sampleStruct(api.request, v), sampleStruct(api.response, v));
    });
    if (countNullable(api.request, v) + countNullable(api.response, v) > 0) {
      test(`${api.name} v${v} round-trips nulls in every nullable field`, () => {
        const request = withNulls(api.request, sampleStruct(api.request, v), v);
        const response = withNulls(api.response, sampleStruct(api.response, v), v);
        roundTrip(api, v, request, response);
      });
    }
  }
}

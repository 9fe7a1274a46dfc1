import { KafkaProtocolError, Reader, Writer } from '@tributary/protocol';

/**
 * The records of `__consumer_offsets`, in Kafka's own formats so that Kafka's tools can read
 * them (group-coordinator/src/main/resources/common/message/*.json). Each key and value
 * starts with an int16 version:
 *
 *   OffsetCommitKey v0/v1:  group string | topic string | partition int32
 *   GroupMetadataKey v2:    group string
 *   OffsetCommitValue v0:   offset int64 | metadata string | commitTimestamp int64
 *                     v1:   v0 + expireTimestamp int64
 *                     v2:   as v0
 *                     v3:   offset int64 | leaderEpoch int32 | metadata string | commitTimestamp int64
 *                     v4:   v3 in compact (flexible) encoding with tagged fields
 *   GroupMetadataValue:     protocolType string | generation int32 | protocol string? | leader string? |
 *                           currentStateTimestamp int64 (v2+) | members array of
 *                           [memberId string | groupInstanceId string? (v3+) | clientId string |
 *                            clientHost string | rebalanceTimeout int32 (v1+) | sessionTimeout int32 |
 *                            subscription bytes | assignment bytes]; v4 is flexible.
 *
 * We write OffsetCommitKey v1, OffsetCommitValue v3 (v1 when the commit carries its own
 * expiry, as Kafka does), GroupMetadataKey v2 and GroupMetadataValue v3; reading accepts
 * every version. A null value is a tombstone.
 */

export const OFFSET_COMMIT_KEY_VERSION = 1;
export const GROUP_METADATA_KEY_VERSION = 2;

export type GroupRecordKey =
  | { readonly kind: 'offset'; readonly group: string; readonly topic: string; readonly partition: number }
  | { readonly kind: 'group'; readonly group: string };

export interface OffsetCommitValue {
  readonly offset: number;
  /** -1 when unknown. */
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestamp: number;
  /** Set only by OffsetCommit v1-v4 with an explicit retention: the old per-commit expiry. */
  readonly expireTimestamp: number | null;
}

export interface StoredMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly rebalanceTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  /** The member's metadata for the group's selected protocol. */
  readonly subscription: Buffer;
  readonly assignment: Buffer;
}

export interface GroupMetadataValue {
  /** "" when the group has none (it only stores offsets). */
  readonly protocolType: string;
  readonly generation: number;
  readonly protocol: string | null;
  readonly leader: string | null;
  /** When the group entered its current state; -1 when unknown (values before v2). */
  readonly currentStateTimestamp: number;
  readonly members: readonly StoredMember[];
}

export function encodeOffsetCommitKey(group: string, topic: string, partition: number): Buffer {
  return new Writer(64)
    .int16(OFFSET_COMMIT_KEY_VERSION)
    .string(group)
    .string(topic)
    .int32(partition)
    .toBuffer();
}

export function encodeGroupMetadataKey(group: string): Buffer {
  return new Writer(32).int16(GROUP_METADATA_KEY_VERSION).string(group).toBuffer();
}

export function encodeOffsetCommitValue(v: OffsetCommitValue): Buffer {
  const w = new Writer(64);
  if (v.expireTimestamp !== null) {
    return w
      .int16(1)
      .int64(v.offset)
      .string(v.metadata)
      .int64(v.commitTimestamp)
      .int64(v.expireTimestamp)
      .toBuffer();
  }
  return w
    .int16(3)
    .int64(v.offset)
    .int32(v.leaderEpoch)
    .string(v.metadata)
    .int64(v.commitTimestamp)
    .toBuffer();
}

export function encodeGroupMetadataValue(v: GroupMetadataValue): Buffer {
  const w = new Writer(256)
    .int16(3)
    .string(v.protocolType)
    .int32(v.generation)
    .nullableString(v.protocol)
    .nullableString(v.leader)
    .int64(v.currentStateTimestamp)
    .int32(v.members.length);
  for (const m of v.members) {
    w.string(m.memberId)
      .nullableString(m.groupInstanceId)
      .string(m.clientId)
      .string(m.clientHost)
      .int32(m.rebalanceTimeoutMs)
      .int32(m.sessionTimeoutMs)
      .bytes(m.subscription)
      .bytes(m.assignment);
  }
  return w.toBuffer();
}

function unknownVersion(what: string, version: number): KafkaProtocolError {
  return KafkaProtocolError.corrupt(`unknown ${what} version ${version}`);
}

/** The key of a record in __consumer_offsets; null for record types this coordinator does not use. */
export function decodeGroupRecordKey(key: Buffer): GroupRecordKey | null {
  const r = new Reader(key);
  const version = r.int16();
  if (version === 0 || version === 1) {
    return { kind: 'offset', group: r.string(), topic: r.string(), partition: r.int32() };
  }
  if (version === 2) return { kind: 'group', group: r.string() };
  // Versions 3+ are KIP-848 consumer-group and share-group records, not the classic protocol.
  return null;
}

/** Reader helpers that follow a value's flexibility (compact encodings from v4). */
function fieldReader(r: Reader, flexible: boolean) {
  return {
    str: () => (flexible ? r.compactString() : r.string()),
    nullableStr: () => (flexible ? r.compactNullableString() : r.nullableString()),
    bytes: () => Buffer.from(flexible ? r.compactBytes() : r.bytes()),
    arrayLength: () => r.arrayLength(flexible),
    skipTaggedFields: () => {
      if (!flexible) return;
      for (let n = r.uvarint(); n > 0; n--) {
        r.uvarint();
        r.skip(r.uvarint());
      }
    },
  };
}

export function decodeOffsetCommitValue(value: Buffer): OffsetCommitValue {
  const r = new Reader(value);
  const version = r.int16();
  if (version < 0 || version > 4) throw unknownVersion('OffsetCommitValue', version);
  const f = fieldReader(r, version >= 4);
  const offset = r.int64();
  const leaderEpoch = version >= 3 ? r.int32() : -1;
  const metadata = f.str();
  const commitTimestamp = r.int64();
  const expire = version === 1 ? r.int64() : -1;
  f.skipTaggedFields();
  return {
    offset,
    leaderEpoch,
    metadata,
    commitTimestamp,
    expireTimestamp: expire === -1 ? null : expire,
  };
}

export function decodeGroupMetadataValue(value: Buffer): GroupMetadataValue {
  const r = new Reader(value);
  const version = r.int16();
  if (version < 0 || version > 4) throw unknownVersion('GroupMetadataValue', version);
  const f = fieldReader(r, version >= 4);
  const protocolType = f.str();
  const generation = r.int32();
  const protocol = f.nullableStr();
  const leader = f.nullableStr();
  const currentStateTimestamp = version >= 2 ? r.int64() : -1;
  const count = f.arrayLength();
  const members: StoredMember[] = [];
  for (let i = 0; i < count; i++) {
    const memberId = f.str();
    const groupInstanceId = version >= 3 ? f.nullableStr() : null;
    const clientId = f.str();
    const clientHost = f.str();
    const rebalanceTimeout = version >= 1 ? r.int32() : -1;
    const sessionTimeoutMs = r.int32();
    const subscription = f.bytes();
    const assignment = f.bytes();
    f.skipTaggedFields();
    members.push({
      memberId,
      groupInstanceId,
      clientId,
      clientHost,
      // Before v1 the rebalance timeout was the session timeout.
      rebalanceTimeoutMs: rebalanceTimeout === -1 ? sessionTimeoutMs : rebalanceTimeout,
      sessionTimeoutMs,
      subscription,
      assignment,
    });
  }
  f.skipTaggedFields();
  return { protocolType, generation, protocol, leader, currentStateTimestamp, members };
}

/** Java's String.hashCode: over UTF-16 code units, wrapping at 32 bits. */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** The partition of __consumer_offsets holding a group: Kafka's Utils.abs(groupId.hashCode) % partitions. */
export function offsetsPartitionFor(groupId: string, numPartitions: number): number {
  const h = javaStringHashCode(groupId);
  // Utils.abs maps Integer.MIN_VALUE to 0 where Math.abs would leave it negative.
  return (h === -2147483648 ? 0 : Math.abs(h)) % numPartitions;
}

/**
 * The topics of a ConsumerProtocolSubscription (the "consumer" protocol's member metadata).
 * Every version starts with version int16 and the topic array, so version 0's layout is read
 * whatever the version, as Kafka does. Null when the bytes are not a subscription.
 */
export function subscribedTopicsOf(metadata: Buffer): string[] | null {
  try {
    const r = new Reader(metadata);
    if (r.int16() < 0) return null;
    const n = r.arrayLength(false);
    if (n < 0) return null;
    const topics: string[] = [];
    for (let i = 0; i < n; i++) topics.push(r.string());
    return topics;
  } catch {
    return null;
  }
}

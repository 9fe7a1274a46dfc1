import {
  decodeMessage,
  defineMessage,
  encodeMessage,
  KafkaProtocolError,
  parseVersions,
  Reader,
  type MessageDefinition,
} from '@tributary/protocol';

/**
 * The records of `__consumer_offsets`, in Kafka's own formats so that Kafka's tools can read
 * them (group-coordinator/src/main/resources/common/message/*.json). Each key and value
 * starts with an int16 version; a key's version says which record it is (0-1 an offset
 * commit, 2 a group's metadata).
 *
 * We write OffsetCommitKey v1, OffsetCommitValue v3 (v1 when the commit carries its own
 * expiry, as Kafka does), GroupMetadataKey v2 and GroupMetadataValue v3; reading accepts
 * every version up to Kafka 3.9's and refuses a newer one. A null
 * value is a tombstone. The formats are data, as the APIs are: one `defineMessage` each.
 */

export const OFFSET_COMMIT_KEY_VERSION = 1;
export const GROUP_METADATA_KEY_VERSION = 2;

const OffsetCommitKey = defineMessage({
  name: 'OffsetCommitKey',
  versions: '0-1',
  flexibleVersions: 'none',
  fields: { group: 'string', topic: 'string', partition: 'int32' },
});

const GroupMetadataKey = defineMessage({
  name: 'GroupMetadataKey',
  versions: '2',
  flexibleVersions: 'none',
  fields: { group: 'string' },
});

const OffsetCommitValueFormat = defineMessage({
  name: 'OffsetCommitValue',
  versions: '0-4',
  flexibleVersions: '4+',
  fields: {
    offset: 'int64',
    leaderEpoch: { type: 'int32', versions: '3+', default: -1 },
    metadata: 'string',
    commitTimestamp: 'int64',
    expireTimestamp: { type: 'int64', versions: '1', default: -1 },
  },
});

const GroupMetadataValueFormat = defineMessage({
  name: 'GroupMetadataValue',
  versions: '0-4',
  flexibleVersions: '4+',
  fields: {
    protocolType: 'string',
    generation: 'int32',
    protocol: { type: 'string', nullable: '0+' },
    leader: { type: 'string', nullable: '0+' },
    currentStateTimestamp: { type: 'int64', versions: '2+', default: -1 },
    members: {
      type: 'struct[]',
      fields: {
        memberId: 'string',
        groupInstanceId: { type: 'string', versions: '3+', nullable: '3+', default: null },
        clientId: 'string',
        clientHost: 'string',
        rebalanceTimeout: { type: 'int32', versions: '1+', default: -1 },
        sessionTimeout: 'int32',
        subscription: 'bytes',
        assignment: 'bytes',
      },
    },
  },
});

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
  return encodeMessage(OffsetCommitKey, OFFSET_COMMIT_KEY_VERSION, { group, topic, partition });
}

export function encodeGroupMetadataKey(group: string): Buffer {
  return encodeMessage(GroupMetadataKey, GROUP_METADATA_KEY_VERSION, { group });
}

export function encodeOffsetCommitValue(v: OffsetCommitValue): Buffer {
  return encodeMessage(OffsetCommitValueFormat, v.expireTimestamp !== null ? 1 : 3, {
    ...v,
    expireTimestamp: v.expireTimestamp ?? -1,
  });
}

export function encodeGroupMetadataValue(v: GroupMetadataValue): Buffer {
  return encodeMessage(GroupMetadataValueFormat, 3, {
    ...v,
    members: v.members.map((m) => ({
      ...m,
      rebalanceTimeout: m.rebalanceTimeoutMs,
      sessionTimeout: m.sessionTimeoutMs,
    })),
  });
}

/** The key of a record in __consumer_offsets; null for record types this coordinator does not use. */
export function decodeGroupRecordKey(key: Buffer): GroupRecordKey | null {
  const version = new Reader(key).int16();
  if (version === 0 || version === 1) return { kind: 'offset', ...decodeMessage(OffsetCommitKey, key).value };
  if (version === 2) return { kind: 'group', ...decodeMessage(GroupMetadataKey, key).value };
  // Versions 3+ are KIP-848 consumer-group and share-group records, not the classic protocol.
  return null;
}

/** Unlike a client's messages, a stored record of a version we do not know is refused, as Kafka does. */
function decodeKnown<M extends MessageDefinition>(def: M, buf: Buffer) {
  const version = new Reader(buf).int16();
  const { min, max } = parseVersions(def.versions);
  if (version < min || version > max)
    throw KafkaProtocolError.corrupt(`unknown ${def.name} version ${version}`);
  return decodeMessage(def, buf).value;
}

export function decodeOffsetCommitValue(value: Buffer): OffsetCommitValue {
  const v = decodeKnown(OffsetCommitValueFormat, value);
  return {
    offset: v.offset,
    leaderEpoch: v.leaderEpoch,
    metadata: v.metadata,
    commitTimestamp: v.commitTimestamp,
    expireTimestamp: v.expireTimestamp === -1 ? null : v.expireTimestamp,
  };
}

export function decodeGroupMetadataValue(value: Buffer): GroupMetadataValue {
  const v = decodeKnown(GroupMetadataValueFormat, value);
  return {
    protocolType: v.protocolType,
    generation: v.generation,
    protocol: v.protocol,
    leader: v.leader,
    currentStateTimestamp: v.currentStateTimestamp,
    members: v.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      // Before v1 the rebalance timeout was the session timeout.
      rebalanceTimeoutMs: m.rebalanceTimeout === -1 ? m.sessionTimeout : m.rebalanceTimeout,
      sessionTimeoutMs: m.sessionTimeout,
      // Copies: the record buffer they would otherwise pin is a whole read of the log.
      subscription: Buffer.from(m.subscription),
      assignment: Buffer.from(m.assignment),
    })),
  };
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

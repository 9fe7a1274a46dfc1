import {
  decodeMessage,
  decodeUnversioned,
  defineMessage,
  encodeMessage,
  encodeUnversioned,
  KafkaProtocolError,
  type MessageDefinition,
  type ValueOf,
} from '@tributary/protocol';

/**
 * MirrorMaker 2's record formats (connect/mirror-client: OffsetSync, Checkpoint, Heartbeat),
 * in Kafka's classic struct encoding: big-endian fixed-width integers, STRING = int16 length
 * + UTF-8. Tools that read MM2's internal topics read ours.
 */
export interface OffsetSync {
  readonly topic: string;
  readonly partition: number;
  readonly upstreamOffset: number;
  readonly offset: number;
}

export interface Checkpoint {
  readonly group: string;
  /** The target topic's name (already renamed by the replication policy). */
  readonly topic: string;
  readonly partition: number;
  readonly upstreamOffset: number;
  readonly offset: number;
  readonly metadata: string;
}

export interface Heartbeat {
  readonly sourceClusterAlias: string;
  readonly targetClusterAlias: string;
  readonly timestamp: number;
}

/**
 * The formats as data (MM2's Struct schemas). Keys and offset syncs carry no version; the
 * values of checkpoints and heartbeats start with an int16 version (0, the only one MM2 writes).
 */
const OffsetSyncKey = defineMessage({
  name: 'OffsetSyncKey',
  versions: '0',
  flexibleVersions: 'none',
  fields: { topic: 'string', partition: 'int32' },
});
const OffsetSyncValue = defineMessage({
  name: 'OffsetSyncValue',
  versions: '0',
  flexibleVersions: 'none',
  fields: { upstreamOffset: 'int64', offset: 'int64' },
});
const CheckpointKey = defineMessage({
  name: 'CheckpointKey',
  versions: '0',
  flexibleVersions: 'none',
  fields: { group: 'string', topic: 'string', partition: 'int32' },
});
const CheckpointValue = defineMessage({
  name: 'CheckpointValue',
  versions: '0',
  flexibleVersions: 'none',
  fields: { upstreamOffset: 'int64', offset: 'int64', metadata: 'string' },
});
const HeartbeatKey = defineMessage({
  name: 'HeartbeatKey',
  versions: '0',
  flexibleVersions: 'none',
  fields: { sourceClusterAlias: 'string', targetClusterAlias: 'string' },
});
const HeartbeatValue = defineMessage({
  name: 'HeartbeatValue',
  versions: '0',
  flexibleVersions: 'none',
  fields: { timestamp: 'int64' },
});

/** A record that does not parse is corrupt; a value of a version MM2 never wrote is refused too. */
function reading<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw KafkaProtocolError.corrupt(`${what} is malformed: ${(err as Error).message}`);
  }
}

function versioned<M extends MessageDefinition>(def: M, what: string, value: Buffer): ValueOf<M> {
  const decoded = reading(what, () => decodeMessage(def, value));
  if (decoded.version !== 0)
    throw KafkaProtocolError.corrupt(`unknown ${what.split(' ')[0]} version ${decoded.version}`);
  return decoded.value;
}

export function encodeOffsetSyncKey(s: { topic: string; partition: number }): Buffer {
  return encodeUnversioned(OffsetSyncKey, s);
}

export function encodeOffsetSyncValue(s: { upstreamOffset: number; offset: number }): Buffer {
  return encodeUnversioned(OffsetSyncValue, s);
}

export function decodeOffsetSync(key: Buffer, value: Buffer): OffsetSync {
  return {
    ...reading('offset sync key', () => decodeUnversioned(OffsetSyncKey, key)),
    ...reading('offset sync value', () => decodeUnversioned(OffsetSyncValue, value)),
  };
}

export function encodeCheckpointKey(c: { group: string; topic: string; partition: number }): Buffer {
  return encodeUnversioned(CheckpointKey, c);
}

export function encodeCheckpointValue(c: {
  upstreamOffset: number;
  offset: number;
  metadata: string;
}): Buffer {
  return encodeMessage(CheckpointValue, 0, c);
}

export function decodeCheckpoint(key: Buffer, value: Buffer): Checkpoint {
  return {
    ...reading('checkpoint key', () => decodeUnversioned(CheckpointKey, key)),
    ...versioned(CheckpointValue, 'checkpoint value', value),
  };
}

export function encodeHeartbeatKey(h: { sourceClusterAlias: string; targetClusterAlias: string }): Buffer {
  return encodeUnversioned(HeartbeatKey, h);
}

export function encodeHeartbeatValue(h: { timestamp: number }): Buffer {
  return encodeMessage(HeartbeatValue, 0, h);
}

export function decodeHeartbeat(key: Buffer, value: Buffer): Heartbeat {
  return {
    ...reading('heartbeat key', () => decodeUnversioned(HeartbeatKey, key)),
    ...versioned(HeartbeatValue, 'heartbeat value', value),
  };
}

/** MM2's internal topic names. */
export const offsetSyncsTopic = (targetAlias: string): string => `mm2-offset-syncs.${targetAlias}.internal`;
export const checkpointsTopic = (sourceAlias: string): string => `${sourceAlias}.checkpoints.internal`;
export const HEARTBEATS_TOPIC = 'heartbeats';

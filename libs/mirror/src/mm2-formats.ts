import { KafkaProtocolError, Reader, Writer } from '@tributary/protocol';

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

const done = (w: Writer): Buffer => w.toBuffer();

function reading<T>(what: string, buf: Buffer, read: (r: Reader) => T): T {
  const r = new Reader(buf);
  try {
    return read(r);
  } catch (err) {
    throw KafkaProtocolError.corrupt(`${what} is malformed: ${(err as Error).message}`);
  }
}

export function encodeOffsetSyncKey(s: { topic: string; partition: number }): Buffer {
  return done(new Writer(64).string(s.topic).int32(s.partition));
}

export function encodeOffsetSyncValue(s: { upstreamOffset: number; offset: number }): Buffer {
  return done(new Writer(16).int64(s.upstreamOffset).int64(s.offset));
}

export function decodeOffsetSync(key: Buffer, value: Buffer): OffsetSync {
  const k = reading('offset sync key', key, (r) => ({ topic: r.string(), partition: r.int32() }));
  const v = reading('offset sync value', value, (r) => ({ upstreamOffset: r.int64(), offset: r.int64() }));
  return { ...k, ...v };
}

export function encodeCheckpointKey(c: { group: string; topic: string; partition: number }): Buffer {
  return done(new Writer(64).string(c.group).string(c.topic).int32(c.partition));
}

export function encodeCheckpointValue(c: {
  upstreamOffset: number;
  offset: number;
  metadata: string;
}): Buffer {
  return done(new Writer(64).int16(0).int64(c.upstreamOffset).int64(c.offset).string(c.metadata));
}

export function decodeCheckpoint(key: Buffer, value: Buffer): Checkpoint {
  const k = reading('checkpoint key', key, (r) => ({
    group: r.string(),
    topic: r.string(),
    partition: r.int32(),
  }));
  const v = reading('checkpoint value', value, (r) => {
    const version = r.int16();
    if (version !== 0) throw new Error(`unknown checkpoint version ${version}`);
    return { upstreamOffset: r.int64(), offset: r.int64(), metadata: r.string() };
  });
  return { ...k, ...v };
}

export function encodeHeartbeatKey(h: { sourceClusterAlias: string; targetClusterAlias: string }): Buffer {
  return done(new Writer(64).string(h.sourceClusterAlias).string(h.targetClusterAlias));
}

export function encodeHeartbeatValue(h: { timestamp: number }): Buffer {
  return done(new Writer(16).int16(0).int64(h.timestamp));
}

export function decodeHeartbeat(key: Buffer, value: Buffer): Heartbeat {
  const k = reading('heartbeat key', key, (r) => ({
    sourceClusterAlias: r.string(),
    targetClusterAlias: r.string(),
  }));
  const v = reading('heartbeat value', value, (r) => {
    const version = r.int16();
    if (version !== 0) throw new Error(`unknown heartbeat version ${version}`);
    return { timestamp: r.int64() };
  });
  return { ...k, ...v };
}

/** MM2's internal topic names. */
export const offsetSyncsTopic = (targetAlias: string): string => `mm2-offset-syncs.${targetAlias}.internal`;
export const checkpointsTopic = (sourceAlias: string): string => `${sourceAlias}.checkpoints.internal`;
export const HEARTBEATS_TOPIC = 'heartbeats';

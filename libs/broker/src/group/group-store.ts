import {
  BATCH,
  BatchHeader,
  decodeRecordBatch,
  encodeRecordBatch,
  ErrorCode,
  KafkaProtocolError,
  type KafkaRecord,
  type RecordInput,
} from '@tributary/protocol';
import type { LogManager, PartitionLog } from '@tributary/storage';
import type { BrokerLogger } from '../broker-context';
import type { GroupConfig } from './group-config';
import { topicPartitionKey } from './group';
import {
  decodeGroupMetadataValue,
  decodeGroupRecordKey,
  decodeOffsetCommitValue,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  offsetsPartitionFor,
  type GroupMetadataValue,
  type OffsetCommitValue,
} from './group-records';

export const OFFSETS_TOPIC = '__consumer_offsets';

export interface StoredOffset {
  readonly topic: string;
  readonly partition: number;
  readonly value: OffsetCommitValue;
}

/** What __consumer_offsets holds for one group once read to its end: the newest value of each key. */
export interface LoadedGroup {
  metadata: GroupMetadataValue | null;
  readonly offsets: Map<string, StoredOffset>;
}

export interface GroupStoreOptions {
  readonly logs: LogManager;
  readonly config: GroupConfig;
  readonly logger: BrokerLogger;
  /** The leader epoch to stamp on appends to a partition of the topic. */
  readonly leaderEpoch: (partition: number) => number;
  /** Partitions of the topic as the cluster knows it (a broker may hold only some); the local topic's when left out. */
  readonly numPartitions?: () => number | undefined;
  /**
   * Makes sure the topic exists (through the cluster when there is one): true when it can be
   * used now, false while it is being created. Created locally when left out.
   */
  readonly ensureTopic?: () => boolean;
  /** Called after each append (to wake fetches of the topic). */
  readonly onAppend?: (partition: number) => void;
}

const READ_CHUNK_BYTES = 1 << 20;

/**
 * Group metadata and committed offsets in the internal compacted topic __consumer_offsets
 * (Kafka's GroupMetadataManager, storage side). A group lives in partition
 * abs(hashCode(groupId)) % partitions; each write is one record batch, appended whole or
 * not at all. The topic is created on first use with cleanup.policy=compact.
 */
export class GroupStore {
  constructor(private readonly options: GroupStoreOptions) {}

  /** Partitions of the topic: as created, or offsets.topic.num.partitions before it exists. */
  get numPartitions(): number {
    return (
      this.options.numPartitions?.() ??
      this.options.logs.topic(OFFSETS_TOPIC)?.numPartitions ??
      this.options.config.offsetsTopicNumPartitions
    );
  }

  partitionFor(groupId: string): number {
    return offsetsPartitionFor(groupId, this.numPartitions);
  }

  /** The configs __consumer_offsets is created with. */
  static topicConfigs(config: GroupConfig): Record<string, string> {
    return {
      'cleanup.policy': 'compact',
      'compression.type': 'producer',
      'segment.bytes': String(config.offsetsTopicSegmentBytes),
    };
  }

  /** Creates __consumer_offsets when it does not exist yet; false while a cluster is still creating it. */
  ensureTopic(): boolean {
    if (this.options.ensureTopic !== undefined) return this.options.ensureTopic();
    const { logs, config } = this.options;
    if (logs.topic(OFFSETS_TOPIC) !== undefined) return true;
    logs.createTopic(OFFSETS_TOPIC, config.offsetsTopicNumPartitions, GroupStore.topicConfigs(config));
    return true;
  }

  storeGroup(groupId: string, value: GroupMetadataValue, now: number): void {
    this.append(groupId, [
      { key: encodeGroupMetadataKey(groupId), value: encodeGroupMetadataValue(value), timestamp: now },
    ]);
  }

  storeOffsets(groupId: string, offsets: readonly StoredOffset[], now: number): void {
    if (offsets.length === 0) return;
    this.append(
      groupId,
      offsets.map((o) => ({
        key: encodeOffsetCommitKey(groupId, o.topic, o.partition),
        value: encodeOffsetCommitValue(o.value),
        timestamp: now,
      })),
    );
  }

  /** Tombstones for removed offsets, and for the group itself when it is gone. */
  writeTombstones(
    groupId: string,
    offsets: readonly { topic: string; partition: number }[],
    group: boolean,
    now: number,
  ): void {
    const records: RecordInput[] = offsets.map((o) => ({
      key: encodeOffsetCommitKey(groupId, o.topic, o.partition),
      value: null,
      timestamp: now,
    }));
    if (group) records.push({ key: encodeGroupMetadataKey(groupId), value: null, timestamp: now });
    if (records.length > 0) this.append(groupId, records);
  }

  private append(groupId: string, records: RecordInput[]): void {
    this.ensureTopic();
    const partition = this.partitionFor(groupId);
    const log = this.options.logs.partition(OFFSETS_TOPIC, partition);
    if (log === undefined) {
      throw new KafkaProtocolError(
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        `${OFFSETS_TOPIC}-${partition} is not available`,
      );
    }
    log.append(encodeRecordBatch({ records }), this.options.leaderEpoch(partition));
    this.options.onAppend?.(partition);
  }

  /**
   * Reads every partition of the topic held here (or those given) to its end: later records win, a null value deletes.
   * A record that cannot be decoded is skipped with a warning rather than stopping the broker.
   */
  load(partitions?: readonly number[]): Map<string, LoadedGroup> {
    const groups = new Map<string, LoadedGroup>();
    const logs = this.options.logs.partitions(OFFSETS_TOPIC);
    for (const [partition, log] of logs) {
      if (partitions === undefined || partitions.includes(partition))
        this.loadPartition(log, partition, groups);
    }
    for (const [groupId, g] of groups) {
      if (g.metadata === null && g.offsets.size === 0) groups.delete(groupId);
    }
    return groups;
  }

  private loadPartition(log: PartitionLog, partition: number, groups: Map<string, LoadedGroup>): void {
    const warn = (what: string, offset: number, err: unknown): void =>
      this.options.logger.warn(
        `${OFFSETS_TOPIC}-${partition}: skipping unreadable ${what} at offset ${offset}: ${(err as Error).message}`,
      );
    let offset = log.logStartOffset;
    while (offset < log.logEndOffset) {
      const { records } = log.read(offset, READ_CHUNK_BYTES, { minOneBatch: true });
      const before = offset;
      let at = 0;
      while (records.length - at >= BATCH.HEADER_SIZE) {
        const header = new BatchHeader(records, at);
        if (at + header.sizeInBytes > records.length) break;
        offset = header.lastOffset + 1;
        if (!header.isControl) {
          let batch: KafkaRecord[] = [];
          try {
            batch = decodeRecordBatch(records, at).records;
          } catch (err) {
            warn('batch', header.baseOffset, err);
          }
          for (const record of batch) {
            try {
              applyRecord(record, groups);
            } catch (err) {
              warn('record', record.offset, err);
            }
          }
        }
        at += header.sizeInBytes;
      }
      if (offset === before) break;
    }
  }
}

/** One record of the topic onto the groups read so far. */
function applyRecord(record: KafkaRecord, groups: Map<string, LoadedGroup>): void {
  if (record.key === null) return;
  const key = decodeGroupRecordKey(record.key);
  if (key === null) return;
  let g = groups.get(key.group);
  if (g === undefined) {
    g = { metadata: null, offsets: new Map() };
    groups.set(key.group, g);
  }
  if (key.kind === 'group') {
    g.metadata = record.value === null ? null : decodeGroupMetadataValue(record.value);
    return;
  }
  const tp = topicPartitionKey(key.topic, key.partition);
  if (record.value === null) g.offsets.delete(tp);
  else
    g.offsets.set(tp, {
      topic: key.topic,
      partition: key.partition,
      value: decodeOffsetCommitValue(record.value),
    });
}

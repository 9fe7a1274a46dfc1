import {
  ControlRecordType,
  decodeRecordBatch,
  encodeRecordBatch,
  ErrorCode,
  KafkaProtocolError,
  parseControlRecord,
  type KafkaRecord,
  type RecordInput,
} from '@tributary/protocol';
import type { LogManager, PartitionLog } from '@tributary/storage';
import type { BrokerLogger } from '../broker-context';
import { visitBatches } from '../internal-topic-reader';
import type { GroupConfig } from './group-config';
import { topicPartitionKey, type GroupOffset } from './group';
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

/**
 * What __consumer_offsets holds for one group once read to its end: the newest value of each
 * key, and the offsets of transactions with no marker yet, by producer id.
 */
export interface LoadedGroup {
  metadata: GroupMetadataValue | null;
  readonly offsets: Map<string, GroupOffset>;
  readonly pendingTransactionalOffsets: Map<number, Map<string, GroupOffset>>;
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

  /** Appends the commits as one batch; their records' offsets in the log, in order. */
  storeOffsets(groupId: string, offsets: readonly StoredOffset[], now: number): number[] {
    if (offsets.length === 0) return [];
    const base = this.append(groupId, this.offsetRecords(groupId, offsets, now));
    return offsets.map((_, i) => base + i);
  }

  /**
   * TxnOffsetCommit's commits: one transactional batch of the producer, so that its
   * transaction's marker ends them in this partition's log as in any other. Its sequence
   * follows the producer's last batch here (the log checks it as any producer's).
   */
  storeTransactionalOffsets(
    groupId: string,
    producerId: number,
    producerEpoch: number,
    offsets: readonly StoredOffset[],
    now: number,
  ): number[] {
    if (offsets.length === 0) return [];
    this.ensureTopic();
    const last = this.partitionLog(groupId).producerState(producerId);
    const lastSeq =
      last !== undefined && last.epoch === producerEpoch ? (last.batches.at(-1)?.lastSeq ?? -1) : -1;
    const base = this.append(groupId, this.offsetRecords(groupId, offsets, now), {
      producerId,
      producerEpoch,
      baseSequence: lastSeq + 1,
      isTransactional: true,
    });
    return offsets.map((_, i) => base + i);
  }

  private offsetRecords(groupId: string, offsets: readonly StoredOffset[], now: number): RecordInput[] {
    return offsets.map((o) => ({
      key: encodeOffsetCommitKey(groupId, o.topic, o.partition),
      value: encodeOffsetCommitValue(o.value),
      timestamp: now,
    }));
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

  private partitionLog(groupId: string): PartitionLog {
    const partition = this.partitionFor(groupId);
    const log = this.options.logs.partition(OFFSETS_TOPIC, partition);
    if (log === undefined) {
      throw new KafkaProtocolError(
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        `${OFFSETS_TOPIC}-${partition} is not available`,
      );
    }
    return log;
  }

  /** Appends one batch of records for the group; its base offset. */
  private append(
    groupId: string,
    records: RecordInput[],
    producer?: { producerId: number; producerEpoch: number; baseSequence: number; isTransactional: boolean },
  ): number {
    this.ensureTopic();
    const partition = this.partitionFor(groupId);
    const log = this.partitionLog(groupId);
    const appended = log.append(
      encodeRecordBatch({ records, ...producer }),
      this.options.leaderEpoch(partition),
    );
    this.options.onAppend?.(partition);
    return appended.baseOffset;
  }

  /**
   * Reads every partition of the topic held here (or those given) to its end: later records
   * win, a null value deletes; a transaction's commits apply at its COMMIT marker (unless a
   * later commit replaced them) and go at its ABORT marker, and those of a transaction with
   * no marker yet stay pending. A record that cannot be decoded is skipped with a warning
   * rather than stopping the broker.
   */
  load(partitions?: readonly number[]): Map<string, LoadedGroup> {
    const groups = new Map<string, LoadedGroup>();
    const logs = this.options.logs.partitions(OFFSETS_TOPIC);
    for (const [partition, log] of logs) {
      if (partitions === undefined || partitions.includes(partition))
        this.loadPartition(log, partition, groups);
    }
    for (const [groupId, g] of groups) {
      if (g.metadata === null && g.offsets.size === 0 && g.pendingTransactionalOffsets.size === 0)
        groups.delete(groupId);
    }
    return groups;
  }

  private loadPartition(log: PartitionLog, partition: number, groups: Map<string, LoadedGroup>): void {
    const warn = (what: string, offset: number, err: unknown): void =>
      this.options.logger.warn(
        `${OFFSETS_TOPIC}-${partition}: skipping unreadable ${what} at offset ${offset}: ${(err as Error).message}`,
      );
    const groupOf = (groupId: string): LoadedGroup => {
      let g = groups.get(groupId);
      if (g === undefined) {
        g = { metadata: null, offsets: new Map(), pendingTransactionalOffsets: new Map() };
        groups.set(groupId, g);
      }
      return g;
    };
    // Offsets of transactions in progress at this point of the log: producer -> group -> partition.
    const open = new Map<number, Map<string, Map<string, GroupOffset>>>();
    visitBatches(log, READ_CHUNK_BYTES, (header, records, at) => {
      let batch: KafkaRecord[];
      try {
        batch = decodeRecordBatch(records, at).records;
      } catch (err) {
        warn('batch', header.baseOffset, err);
        return;
      }
      const producerId = header.producerId;
      if (header.isControl) {
        const record = batch[0];
        if (record === undefined) return;
        try {
          const type = parseControlRecord(record).type as ControlRecordType;
          if (type !== ControlRecordType.Commit && type !== ControlRecordType.Abort) return;
          const committed = type === ControlRecordType.Commit;
          for (const [groupId, offsets] of open.get(producerId) ?? []) {
            if (committed) applyCommitted(groupOf(groupId).offsets, offsets);
          }
          open.delete(producerId);
        } catch (err) {
          warn('transaction marker', record.offset, err);
        }
        return;
      }
      for (const record of batch) {
        try {
          if (header.isTransactional) addTransactional(record, producerId, open);
          else applyRecord(record, groupOf);
        } catch (err) {
          warn('record', record.offset, err);
        }
      }
    });
    for (const [producerId, byGroup] of open) {
      for (const [groupId, offsets] of byGroup)
        groupOf(groupId).pendingTransactionalOffsets.set(producerId, offsets);
    }
  }
}

/** One record of the topic onto the groups read so far. */
function applyRecord(record: KafkaRecord, groupOf: (groupId: string) => LoadedGroup): void {
  if (record.key === null) return;
  const key = decodeGroupRecordKey(record.key);
  if (key === null) return;
  const g = groupOf(key.group);
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
      appendedAt: record.offset,
    });
}

/** A commit inside a transaction: held for the producer until its marker. */
function addTransactional(
  record: KafkaRecord,
  producerId: number,
  open: Map<number, Map<string, Map<string, GroupOffset>>>,
): void {
  if (record.key === null || record.value === null) return;
  const key = decodeGroupRecordKey(record.key);
  if (key === null || key.kind !== 'offset') return;
  let byGroup = open.get(producerId);
  if (byGroup === undefined) {
    byGroup = new Map();
    open.set(producerId, byGroup);
  }
  let offsets = byGroup.get(key.group);
  if (offsets === undefined) {
    offsets = new Map();
    byGroup.set(key.group, offsets);
  }
  offsets.set(topicPartitionKey(key.topic, key.partition), {
    topic: key.topic,
    partition: key.partition,
    value: decodeOffsetCommitValue(record.value),
    appendedAt: record.offset,
  });
}

/** A committed transaction's offsets, each unless a later record already replaced it. */
function applyCommitted(into: Map<string, GroupOffset>, offsets: ReadonlyMap<string, GroupOffset>): void {
  for (const [key, o] of offsets) {
    const current = into.get(key);
    if (current === undefined || current.appendedAt < o.appendedAt) into.set(key, o);
  }
}

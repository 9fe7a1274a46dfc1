import {
  compressionTypeByName,
  CompressionType,
  encodeRecordBatch,
  ErrorCode,
  InitProducerId,
  KafkaProtocolError,
  Produce,
  type RecordHeader,
  type RecordInput,
} from '@tributary/protocol';
import { Cluster, isStaleMetadata } from '../cluster/cluster';
import { ConnectionError } from '../network/connection';
import type { ClientOptions } from '../options';
import { DefaultPartitioner, type Partitioner } from './partitioner';
import { TransactionManager, type ConsumerGroupMetadata } from './transaction-manager';

export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface ProducerOptions extends ClientOptions {
  /** 0: no answer; 1: the leader wrote it; -1 or 'all': the ISR has it (acks). */
  readonly acks?: 0 | 1 | -1 | 'all';
  /** How long a batch waits for more records (linger.ms). */
  readonly lingerMs?: number;
  /** Bytes of records at which a batch is sent without waiting (batch.size). */
  readonly batchSize?: number;
  readonly compression?: Compression;
  /** Sequence numbers per partition so retries never duplicate (enable.idempotence); on by default. */
  readonly idempotent?: boolean;
  /** Requests in flight per broker (max.in.flight.requests.per.connection, at most 5 with idempotence). */
  readonly maxInFlightRequestsPerConnection?: number;
  /** Largest produce request (max.request.size). */
  readonly maxRequestSize?: number;
  /** A record not acknowledged in this time fails (delivery.timeout.ms). */
  readonly deliveryTimeoutMs?: number;
  /** A custom partitioner; by default murmur2 for keys (the Java client's choice) and sticky without. */
  readonly partitioner?: Partitioner;
  /** Ask the cluster to create unknown topics on first use (when the broker allows it). */
  readonly allowAutoTopicCreation?: boolean;
  /**
   * Makes the producer transactional (transactional.id): records are sent inside
   * beginTransaction() ... commitTransaction() or abortTransaction(), after initTransactions().
   */
  readonly transactionalId?: string;
  /** How long the coordinator lets a transaction stay open before aborting it (transaction.timeout.ms). */
  readonly transactionTimeoutMs?: number;
}

export type HeaderValue = Buffer | string;

export interface ProducerRecord {
  readonly key?: Buffer | string | null;
  readonly value: Buffer | string | null;
  readonly headers?:
    Readonly<Record<string, HeaderValue>> | readonly { key: string; value: HeaderValue | null }[];
  /** An explicit partition; otherwise the partitioner chooses. */
  readonly partition?: number;
  /** CreateTime in ms; now when left out. */
  readonly timestamp?: number;
}

export interface RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  /** -1 with acks=0. */
  readonly offset: number;
  /** The broker's LogAppendTime when the topic uses it, else the record's timestamp. */
  readonly timestamp: number;
}

/** One send() call: its results fill in as the batches holding its records complete. */
interface SendRequest {
  readonly topic: string;
  readonly results: RecordMetadata[];
  remaining: number;
  failed: boolean;
  resolve(results: RecordMetadata[]): void;
  reject(err: Error): void;
}

/**
 * A batch being filled. Hot path: per record only the record itself and two array slots
 * (its send() call and its index there); no promise or object per record.
 */
interface OpenBatch {
  readonly records: RecordInput[];
  readonly requests: SendRequest[];
  readonly indexes: number[];
  bytes: number;
  readonly createdAt: number;
}

/**
 * A closed batch: its sequence is fixed; it is encoded when first sent (so encoding overlaps
 * the broker's work on earlier requests) and kept as bytes for retries, so a retry is the
 * same batch with the same sequence.
 */
interface ReadyBatch {
  readonly queue: PartitionQueue;
  bytes: Buffer | null;
  readonly records: RecordInput[];
  readonly requests: SendRequest[];
  readonly indexes: number[];
  readonly baseSequence: number;
  readonly createdAt: number;
  attempts: number;
}

interface PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  open: OpenBatch | null;
  ready: ReadyBatch[];
  inflight: number;
  nextSequence: number;
  /** The sequence after the last acknowledged batch: the one the broker expects next. */
  ackedSequence: number;
  /** After a failure, nothing more is sent for this partition until what is in flight returns. */
  blocked: boolean;
}

/** Whether sequence a comes at or before b: sequences wrap at 2^31 and never run 2^30 apart. */
const sequenceAtOrBefore = (a: number, b: number): boolean => (b - a + 0x80000000) % 0x80000000 < 0x40000000;

const toBuffer = (v: Buffer | string | null | undefined): Buffer | null =>
  v === null || v === undefined ? null : typeof v === 'string' ? Buffer.from(v) : v;

function toHeaders(h: NonNullable<ProducerRecord['headers']>): RecordHeader[] {
  if (Array.isArray(h))
    return h.map((x: { key: string; value: HeaderValue | null }) => ({
      key: x.key,
      value: toBuffer(x.value),
    }));
  return Object.entries(h as Record<string, HeaderValue>).map(([key, value]) => ({
    key,
    value: toBuffer(value),
  }));
}

const isPlain = (v: unknown): v is Buffer | null | undefined =>
  v === null || v === undefined || Buffer.isBuffer(v);

/** The record as the batch encoder takes it; the caller's object itself when it already fits. */
function toRecordInput(m: ProducerRecord, now: number): RecordInput {
  if (isPlain(m.key) && isPlain(m.value) && m.headers === undefined && m.timestamp !== undefined)
    return m as RecordInput;
  return {
    key: toBuffer(m.key),
    value: toBuffer(m.value),
    headers: m.headers === undefined ? undefined : toHeaders(m.headers),
    timestamp: m.timestamp ?? now,
  };
}

/** Record size estimate for batching: payload plus Kafka's per-record framing, roughly. */
function estimate(r: RecordInput): number {
  let n = 16 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers ?? []) n += 8 + h.key.length + (h.value?.length ?? 0);
  return n;
}

/**
 * The producer: records are collected per partition into batches (linger.ms, batch.size),
 * encoded once as RecordBatch v2 with the chosen codec, and sent per leader in one Produce
 * request per broker at a time (up to max.in.flight requests). With idempotence each batch
 * carries the producer id, epoch and a per-partition sequence, so a retry after a lost
 * answer is recognised by the broker and never written twice; after a failure, a partition
 * sends nothing until its requests in flight have come back, then resends in sequence order.
 */
export class Producer {
  private readonly cluster: Cluster;
  private readonly ownsCluster: boolean;
  private readonly acks: 0 | 1 | -1;
  private readonly lingerMs: number;
  private readonly batchSize: number;
  private readonly compression: CompressionType;
  private readonly idempotent: boolean;
  private readonly maxInflight: number;
  private readonly maxRequestSize: number;
  private readonly deliveryTimeoutMs: number;
  private readonly defaultPartitioner = new DefaultPartitioner();
  private readonly queues = new Map<string, PartitionQueue>();
  private readonly inflightByNode = new Map<number, number>();
  private lingerTimer: NodeJS.Timeout | null = null;
  private drainScheduled = false;
  private producerId = -1;
  private producerEpoch = -1;
  private initializing: Promise<void> | null = null;
  private readonly txn: TransactionManager | null;
  private closed = false;
  private unsettled = 0;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    readonly options: ProducerOptions,
    cluster?: Cluster,
  ) {
    this.cluster = cluster ?? new Cluster(options);
    this.ownsCluster = cluster === undefined;
    this.acks = options.acks === 'all' ? -1 : (options.acks ?? -1);
    this.lingerMs = options.lingerMs ?? 5;
    this.batchSize = options.batchSize ?? 16384;
    this.compression = compressionTypeByName(options.compression ?? 'none');
    this.txn =
      options.transactionalId === undefined
        ? null
        : new TransactionManager(
            this.cluster,
            options.transactionalId,
            options.transactionTimeoutMs ?? 60000,
          );
    if (this.txn !== null && (options.idempotent === false || this.acks !== -1))
      throw new Error('a transactional producer is idempotent with acks=all');
    this.idempotent = options.idempotent ?? this.acks === -1;
    if (this.idempotent && this.acks !== -1) {
      throw new Error('an idempotent producer needs acks=all (set idempotent: false for acks 0 or 1)');
    }
    this.maxInflight = Math.min(
      options.maxInFlightRequestsPerConnection ?? 5,
      this.idempotent ? 5 : Infinity,
    );
    this.maxRequestSize = options.maxRequestSize ?? 1048576;
    this.deliveryTimeoutMs = options.deliveryTimeoutMs ?? 120000;
  }

  /** Sends records to a topic; resolves when every one is acknowledged (per acks). */
  async send(request: { topic: string; messages: readonly ProducerRecord[] }): Promise<RecordMetadata[]> {
    if (this.closed) throw new Error('the producer is closed');
    this.txn?.checkSendable();
    if (this.txn === null && this.idempotent && this.producerId < 0) await this.initProducerId();
    const topic = await this.cluster.topicMetadata(request.topic, {
      allowAutoTopicCreation: this.options.allowAutoTopicCreation ?? true,
    });
    const count = topic.partitions.length;
    const messages = request.messages;
    if (messages.length === 0) return [];
    const now = Date.now();
    return new Promise<RecordMetadata[]>((resolve, reject) => {
      const req: SendRequest = {
        topic: request.topic,
        results: new Array<RecordMetadata>(messages.length),
        remaining: messages.length,
        failed: false,
        resolve,
        reject,
      };
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i];
        const record = toRecordInput(m, now);
        const partition =
          m.partition ??
          (this.options.partitioner
            ? this.options.partitioner(request.topic, record.key ?? null, count)
            : this.defaultPartitioner.partition(request.topic, record.key ?? null, count));
        if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
          req.failed = true;
          reject(
            new KafkaProtocolError(
              ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              `${request.topic} has no partition ${partition}`,
            ),
          );
          this.unsettled += messages.length - i;
          this.settled(messages.length - i);
          return;
        }
        this.append(req, i, partition, record, count);
      }
    });
  }

  private append(
    req: SendRequest,
    index: number,
    partition: number,
    record: RecordInput,
    partitionCount: number,
  ): void {
    const topic = req.topic;
    const key = `${topic}\u0000${partition}`;
    this.txn?.want(topic, partition);
    let q = this.queues.get(key);
    if (q === undefined) {
      q = {
        topic,
        partition,
        open: null,
        ready: [],
        inflight: 0,
        nextSequence: 0,
        ackedSequence: 0,
        blocked: false,
      };
      this.queues.set(key, q);
    }
    const size = estimate(record);
    if (q.open !== null && q.open.bytes + size > this.batchSize) {
      this.closeBatch(q);
      this.defaultPartitioner.onBatchClosed(topic, partition, partitionCount);
    }
    if (q.open === null) q.open = { records: [], requests: [], indexes: [], bytes: 0, createdAt: Date.now() };
    const batch = q.open;
    batch.records.push(record);
    batch.requests.push(req);
    batch.indexes.push(index);
    batch.bytes += size;
    this.unsettled++;
    if (batch.bytes >= this.batchSize) {
      this.closeBatch(q);
      this.defaultPartitioner.onBatchClosed(topic, partition, partitionCount);
    }
    if (q.ready.length > 0 || this.lingerMs === 0) this.scheduleDrain();
    if (q.open !== null) this.armLinger();
  }

  /** An open batch goes out after linger.ms at the latest, full or not (see closeLingered). */
  private armLinger(): void {
    if (this.lingerMs === 0 || this.lingerTimer !== null) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = null;
      this.closeLingered();
      this.scheduleDrain();
    }, this.lingerMs);
  }

  /** Closes the open batches that could be sent now (see canSendOpen). */
  private closeLingered(): void {
    for (const q of this.queues.values()) if (this.canSendOpen(q)) this.closeBatch(q);
  }

  /**
   * Whether a partition's open batch would be sent if closed now: nothing else waits and it
   * has room in flight. Until then records keep joining it, as they join the last batch of
   * Java's accumulator, so a backlog behind a slow or absent leader leaves in full batches
   * rather than in one batch per linger.ms that went by.
   */
  private canSendOpen(q: PartitionQueue): boolean {
    return q.ready.length === 0 && !q.blocked && q.inflight < this.maxInflight;
  }

  /** Encodes the open batch of a partition; its sequence is fixed from here on. */
  private closeBatch(q: PartitionQueue): void {
    const open = q.open;
    if (open === null || open.records.length === 0) return;
    q.open = null;
    const baseSequence = this.idempotent ? q.nextSequence : -1;
    if (this.idempotent) q.nextSequence = (q.nextSequence + open.records.length) % 0x80000000;
    q.ready.push({
      queue: q,
      bytes: null,
      records: open.records,
      requests: open.requests,
      indexes: open.indexes,
      baseSequence,
      createdAt: open.createdAt,
      attempts: 0,
    });
  }

  private encode(b: ReadyBatch): Buffer {
    b.bytes ??= encodeRecordBatch({
      records: b.records,
      compression: this.compression,
      producerId: this.producerId,
      producerEpoch: this.producerEpoch,
      baseSequence: b.baseSequence,
      isTransactional: this.txn !== null,
    });
    return b.bytes;
  }

  private closeAll(): void {
    for (const q of this.queues.values()) this.closeBatch(q);
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  /** Groups sendable batches by leader and sends one request per broker with room in flight. */
  private drain(): void {
    if (this.lingerMs === 0) this.closeAll();
    const byNode = new Map<number, ReadyBatch[]>();
    const sizeByNode = new Map<number, number>();
    let needMetadata = false;
    // A transaction writes a partition only once the coordinator has it in the transaction.
    if (this.txn?.hasPending === true) {
      this.txn.addPending().then(
        () => this.scheduleDrain(),
        (err: unknown) => this.failUnsent(err as Error),
      );
    }
    let open = false;
    const now = Date.now();
    for (const q of this.queues.values()) {
      if (q.open !== null && now - q.open.createdAt >= this.lingerMs && this.canSendOpen(q))
        this.closeBatch(q);
      if (q.open !== null) open = true;
      if (q.ready.length === 0 || q.blocked || q.inflight >= this.maxInflight) continue;
      if (this.txn !== null && !this.txn.isAdded(q.topic, q.partition)) continue;
      let leader: number;
      try {
        leader = this.cluster.leaderFor(q.topic, q.partition);
      } catch {
        needMetadata = true;
        continue;
      }
      if ((this.inflightByNode.get(leader) ?? 0) >= this.maxInflight) continue;
      // One batch per partition per request keeps a partition's batches in order on the wire.
      const batch = q.ready[0];
      const size = sizeByNode.get(leader) ?? 0;
      const bytes = this.encode(batch);
      if (size > 0 && size + bytes.length > this.maxRequestSize) continue;
      q.ready.shift();
      q.inflight++;
      sizeByNode.set(leader, size + bytes.length);
      const list = byNode.get(leader) ?? [];
      list.push(batch);
      byNode.set(leader, list);
    }
    for (const [node, batches] of byNode) void this.sendToNode(node, batches);
    if (open) this.armLinger();
    if (needMetadata) {
      this.cluster
        .refreshMetadata()
        .catch((err: unknown) =>
          this.cluster.logger.warn(`metadata refresh failed: ${(err as Error).message}`),
        )
        .finally(() => setTimeout(() => this.scheduleDrain(), this.options.retryBackoffMs ?? 100));
    }
    // More batches than one request carries: go again once this one is on its way.
    if (byNode.size > 0 && [...this.queues.values()].some((q) => q.ready.length > 0 && !q.blocked))
      this.scheduleDrain();
  }

  private async sendToNode(node: number, batches: ReadyBatch[]): Promise<void> {
    this.inflightByNode.set(node, (this.inflightByNode.get(node) ?? 0) + 1);
    const topics = new Map<string, { index: number; records: Buffer }[]>();
    for (const b of batches) {
      b.attempts++;
      const list = topics.get(b.queue.topic) ?? [];
      list.push({ index: b.queue.partition, records: this.encode(b) });
      topics.set(b.queue.topic, list);
    }
    const body = {
      transactionalId: this.txn?.transactionalId ?? null,
      acks: this.acks,
      timeoutMs: this.options.requestTimeoutMs ?? 30000,
      topicData: [...topics].map(([name, partitionData]) => ({ name, partitionData })),
    };
    try {
      const conn = await this.cluster.connection(node);
      if (this.acks === 0) {
        await conn.requestNoResponse(Produce, body);
        for (const b of batches) this.complete(b, -1, -1);
      } else {
        const response = await conn.request(Produce, body);
        const results = new Map<
          string,
          { errorCode: number; baseOffset: number; logAppendTimeMs: number; errorMessage: string | null }
        >();
        for (const t of response.responses) {
          for (const p of t.partitionResponses) results.set(`${t.name}\u0000${p.index}`, p);
        }
        for (const b of batches) {
          const r = results.get(`${b.queue.topic}\u0000${b.queue.partition}`);
          if (r === undefined)
            this.failed(
              b,
              new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, 'no answer for the partition'),
            );
          else if (r.errorCode === ErrorCode.NONE) this.complete(b, r.baseOffset, r.logAppendTimeMs);
          else
            this.failed(
              b,
              new KafkaProtocolError(
                r.errorCode,
                r.errorMessage ?? `produce to ${b.queue.topic}-${b.queue.partition}`,
              ),
            );
        }
      }
    } catch (err) {
      const error =
        err instanceof KafkaProtocolError ? err : new ConnectionError((err as Error).message, { cause: err });
      for (const b of batches) this.failed(b, error);
    } finally {
      this.inflightByNode.set(node, (this.inflightByNode.get(node) ?? 1) - 1);
      this.scheduleDrain();
    }
  }

  private complete(b: ReadyBatch, baseOffset: number, logAppendTime: number): void {
    b.queue.inflight--;
    if (b.queue.inflight === 0) b.queue.blocked = false;
    if (this.idempotent) {
      const end = (b.baseSequence + b.records.length) % 0x80000000;
      // A retried batch acknowledged after a later one (as a duplicate) must not move it back.
      if (sequenceAtOrBefore(b.queue.ackedSequence, end)) b.queue.ackedSequence = end;
    }
    const { topic, partition } = b.queue;
    for (let i = 0; i < b.requests.length; i++) {
      const req = b.requests[i];
      if (req.failed) continue;
      req.results[b.indexes[i]] = {
        topic,
        partition,
        offset: baseOffset < 0 ? -1 : baseOffset + i,
        timestamp: logAppendTime >= 0 ? logAppendTime : (b.records[i].timestamp as number),
      };
      if (--req.remaining === 0) req.resolve(req.results);
    }
    this.settled(b.requests.length);
  }

  /**
   * A failed batch is retried (same bytes, same sequence) while the error is retriable and
   * delivery.timeout.ms allows. With idempotence, OUT_OF_ORDER_SEQUENCE_NUMBER is expected
   * while an earlier batch of the partition is unacknowledged (it failed and is being resent,
   * so the broker has not seen the sequences before this one yet): retried as the Java
   * producer does, until that batch is through. For the first unacknowledged batch it means
   * the broker's state differs from ours: retried a few times only.
   */
  private failed(b: ReadyBatch, err: KafkaProtocolError): void {
    const q = b.queue;
    q.inflight--;
    const outOfOrder = this.idempotent && err.code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER;
    // A later batch of the partition was acknowledged, so the broker has this one: its request
    // timed out here after the broker appended it, and the retry is refused because the broker
    // is past it (beyond the five batches it remembers). It is written; its offsets are unknown.
    const end = (b.baseSequence + b.records.length) % 0x80000000;
    if (outOfOrder && q.ackedSequence !== b.baseSequence && sequenceAtOrBefore(end, q.ackedSequence)) {
      q.inflight++;
      this.complete(b, -1, -1);
      return;
    }
    const retriable = err.retriable || (outOfOrder && (b.baseSequence !== q.ackedSequence || b.attempts < 5));
    const expired = Date.now() - b.createdAt > this.deliveryTimeoutMs;
    if (retriable && !expired && !this.closed) {
      q.blocked = true;
      q.ready.push(b);
      q.ready.sort((x, y) => x.baseSequence - y.baseSequence);
      if (isStaleMetadata(err.code) || err instanceof ConnectionError) {
        this.cluster.refreshMetadata().catch(() => undefined);
      }
      if (q.inflight === 0) {
        setTimeout(() => {
          q.blocked = false;
          this.scheduleDrain();
        }, this.options.retryBackoffMs ?? 100);
      }
      return;
    }
    if (q.inflight === 0) q.blocked = false;
    // Inside a transaction a lost batch makes the transaction abortable (or the producer fenced).
    this.txn?.fail(err);
    for (const req of b.requests) {
      if (req.failed) continue;
      req.failed = true;
      req.reject(err);
    }
    this.settled(b.requests.length);
  }

  /**
   * Fails every batch not yet sent, rewinding each partition's sequence to the first of them
   * (a transaction that fails or aborts must not leave a gap the broker would refuse).
   */
  private failUnsent(err: Error): void {
    for (const q of this.queues.values()) {
      const batches = [...q.ready, ...(q.open === null ? [] : [{ ...q.open, baseSequence: -1 }])];
      q.open = null;
      q.ready = [];
      const first = batches.find((b) => b.baseSequence >= 0);
      if (first !== undefined) q.nextSequence = first.baseSequence;
      for (const b of batches) {
        for (const req of b.requests) {
          if (req.failed) continue;
          req.failed = true;
          req.reject(err);
        }
        this.settled(b.requests.length);
      }
    }
  }

  private settled(n: number): void {
    this.unsettled -= n;
    if (this.unsettled === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private initProducerId(): Promise<void> {
    this.initializing ??= this.cluster
      .retry('InitProducerId', async () => {
        const conn = await this.cluster.anyConnection();
        const r = await conn.request(InitProducerId, {
          transactionalId: null,
          transactionTimeoutMs: 60000,
          producerId: -1,
          producerEpoch: -1,
        });
        if (r.errorCode !== ErrorCode.NONE)
          throw new KafkaProtocolError(r.errorCode, 'InitProducerId failed');
        this.producerId = r.producerId;
        this.producerEpoch = r.producerEpoch;
      })
      .finally(() => {
        this.initializing = null;
      });
    return this.initializing;
  }

  // ---- transactions (a producer with transactionalId) ----------------------------------

  private transactions(): TransactionManager {
    if (this.txn === null) throw new Error('this producer has no transactionalId');
    return this.txn;
  }

  /**
   * Registers the transactional id with its coordinator: a producer id and a new epoch, which
   * fences an earlier producer with the same id and completes its open transaction.
   */
  async initTransactions(): Promise<void> {
    const txn = this.transactions();
    await txn.initTransactions();
    this.producerId = txn.producerId;
    this.producerEpoch = txn.producerEpoch;
    for (const q of this.queues.values()) q.nextSequence = 0;
  }

  beginTransaction(): void {
    this.transactions().beginTransaction();
  }

  /** Commits a consumer group's offsets as part of the transaction (consume-transform-produce). */
  async sendOffsetsToTransaction(
    offsets: readonly { topic: string; partition: number; offset: number; metadata?: string | null }[],
    group: ConsumerGroupMetadata,
  ): Promise<void> {
    await this.transactions().sendOffsets(offsets, group);
  }

  /** Sends every record of the transaction, then commits it; a failed send makes it fail (abort it then). */
  async commitTransaction(): Promise<void> {
    const txn = this.transactions();
    await this.flush();
    await txn.endTransaction(true);
  }

  /** Drops what was not sent yet, waits for what is in flight, then aborts the transaction. */
  async abortTransaction(): Promise<void> {
    const txn = this.transactions();
    if (this.lingerTimer !== null) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
    }
    this.failUnsent(new Error('the transaction was aborted'));
    if (this.unsettled > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await txn.endTransaction(false);
  }

  /** Sends what is batched now and resolves when every record sent so far is settled. */
  async flush(): Promise<void> {
    if (this.lingerTimer !== null) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
    }
    this.closeAll();
    this.scheduleDrain();
    if (this.unsettled > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Flushes, then closes the connections this producer opened. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    if (this.ownsCluster) await this.cluster.close();
  }
}

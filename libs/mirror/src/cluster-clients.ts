import { Admin, Cluster, Connection, ConnectionError, Producer, type ClientOptions } from '@tributary/client';
import {
  BATCH,
  DescribeProducers,
  ErrorCode,
  Fetch,
  KafkaProtocolError,
  ListOffsets,
  MirrorProduce,
  WriteTxnMarkers,
} from '@tributary/protocol';
import type { ClusterConfig } from './config';

export interface RawFetch {
  readonly errorCode: number;
  /** Whole batches only (a batch cut by the byte limit is left for the next fetch). */
  readonly records: Buffer;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  /** The offset after the last whole batch, or the fetch offset when there is none. */
  readonly nextOffset: number;
  /** read_committed: the transactions aborted in the fetched range. */
  readonly abortedTransactions: readonly { producerId: number; firstOffset: number }[];
}

/** read_uncommitted (every batch, control batches included) or read_committed (up to the last stable offset). */
export type IsolationLevel = 0 | 1;

/** The clients the replicator keeps per cluster alias: metadata, admin, and a producer. */
export class ClusterClients {
  readonly cluster: Cluster;
  readonly admin: Admin;
  private producerInstance: Producer | null = null;

  constructor(readonly config: ClusterConfig) {
    this.cluster = new Cluster(this.options());
    this.admin = new Admin(this.options(), this.cluster);
  }

  /** The client settings for this cluster: where it is, who we are, and its TLS and SASL. */
  options(): ClientOptions {
    return {
      bootstrapServers: this.config.bootstrapServers,
      clientId: this.config.clientId ?? `tributary-mirror-${this.config.alias}`,
      requestTimeoutMs: this.config.requestTimeoutMs ?? undefined,
      ...this.config.security,
    };
  }

  /** Whether a "host:port" in an error is one of this cluster's bootstrap servers or brokers. */
  owns(address: string): boolean {
    return (
      this.config.bootstrapServers.split(',').some((s) => s.trim() === address) ||
      this.cluster.brokers().some((b) => `${b.host}:${b.port}` === address)
    );
  }

  /** One idempotent producer per cluster, shared for offset syncs, heartbeats and checkpoints. */
  producer(): Producer {
    this.producerInstance ??= new Producer(
      {
        ...this.options(),
        lingerMs: 1,
        batchSize: 1 << 20,
        maxRequestSize: 4 << 20,
      },
      this.cluster,
    );
    return this.producerInstance;
  }

  /**
   * A transactional producer of its own (translate mode: one per unit, so each unit's copy and
   * progress commit together); the caller closes it.
   */
  transactionalProducer(transactionalId: string): Producer {
    return new Producer(
      {
        ...this.options(),
        lingerMs: 1,
        batchSize: 1 << 20,
        maxRequestSize: 4 << 20,
        transactionalId,
      },
      this.cluster,
    );
  }

  /**
   * Each partition's last stable offset (ListOffsets read_committed for the latest): below
   * the high watermark while a transaction on it is open.
   */
  async lastStableOffsets(topic: string, partitions: readonly number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for (const partition of partitions) {
      const leader = await this.leader(topic, partition);
      const r = await this.cluster.send(leader, ListOffsets, {
        replicaId: -1,
        isolationLevel: 1,
        topics: [
          {
            name: topic,
            partitions: [
              { partitionIndex: partition, currentLeaderEpoch: -1, timestamp: -1, maxNumOffsets: 1 },
            ],
          },
        ],
      });
      const p = r.topics[0]?.partitions[0];
      if (p === undefined || p.errorCode !== ErrorCode.NONE)
        throw new KafkaProtocolError(
          p?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR,
          `ListOffsets ${topic}-${partition}`,
        );
      out.set(partition, p.offset);
    }
    return out;
  }

  /**
   * Aborts the transactions open on a topic's partitions, as kafka-transactions.sh abort does
   * (DescribeProducers, then WriteTxnMarkers ABORT with the producer's epoch and coordinator
   * epoch): a promoted mirror's transactions whose source is gone would hold its last stable
   * offset for good. Needs CLUSTER_ACTION with an authorizer. Returns what was aborted.
   */
  async abortOpenTransactions(
    topic: string,
    partitions: readonly number[],
  ): Promise<{ partition: number; producerId: number; firstOffset: number }[]> {
    const aborted: { partition: number; producerId: number; firstOffset: number }[] = [];
    for (const partition of partitions) {
      const leader = await this.leader(topic, partition);
      const r = await this.cluster.send(leader, DescribeProducers, {
        topics: [{ name: topic, partitionIndexes: [partition] }],
      });
      const p = r.topics[0]?.partitions[0];
      if (p === undefined || p.errorCode !== ErrorCode.NONE)
        throw new KafkaProtocolError(
          p?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR,
          p?.errorMessage ?? `DescribeProducers ${topic}-${partition}`,
        );
      for (const producer of p.activeProducers.filter((a) => a.currentTxnStartOffset >= 0)) {
        const w = await this.cluster.send(leader, WriteTxnMarkers, {
          markers: [
            {
              producerId: producer.producerId,
              producerEpoch: producer.producerEpoch,
              transactionResult: false,
              topics: [{ name: topic, partitionIndexes: [partition] }],
              coordinatorEpoch: producer.coordinatorEpoch,
            },
          ],
        });
        const code = w.markers[0]?.topics[0]?.partitions[0]?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
        if (code !== ErrorCode.NONE)
          throw new KafkaProtocolError(
            code,
            `aborting producer ${producer.producerId}'s transaction on ${topic}-${partition}`,
          );
        aborted.push({
          partition,
          producerId: producer.producerId,
          firstOffset: producer.currentTxnStartOffset,
        });
      }
    }
    return aborted;
  }

  /** Whether the cluster's brokers speak MirrorProduce (a Tributary cluster): offsets can be preserved. */
  async supportsMirrorProduce(): Promise<boolean> {
    const conn = await this.cluster.anyConnection();
    try {
      conn.versionFor(MirrorProduce);
      return true;
    } catch {
      return false;
    }
  }

  async leader(topic: string, partition: number): Promise<number> {
    await this.cluster.topicMetadata(topic, { allowAutoTopicCreation: false });
    try {
      return this.cluster.leaderFor(topic, partition);
    } catch (err) {
      await this.cluster.refreshMetadata({ allowAutoTopicCreation: false });
      if (err instanceof KafkaProtocolError) return this.cluster.leaderFor(topic, partition);
      throw err;
    }
  }

  /**
   * Fetches stored batches of one partition as they are, on the shared connection (short
   * reads: scans with no wait). Long polls go through a PartitionReader's own connection.
   */
  async fetchRaw(
    topic: string,
    partition: number,
    offset: number,
    maxBytes: number,
    maxWaitMs: number,
    isolationLevel: IsolationLevel = 0,
  ): Promise<RawFetch> {
    const leader = await this.leader(topic, partition);
    return fetchOn(
      await this.cluster.connection(leader),
      topic,
      partition,
      offset,
      maxBytes,
      maxWaitMs,
      this.config.requestTimeoutMs ?? 30000,
      isolationLevel,
    );
  }

  /**
   * MirrorProduce one partition's batches, fetched from the source at `fetchedFrom`; returns
   * the target's log end after it (the ISR has the batches by then).
   */
  async mirrorProduce(
    flow: string,
    topic: string,
    partition: number,
    fetchedFrom: number,
    records: Buffer,
  ): Promise<number> {
    const leader = await this.leader(topic, partition);
    const conn = await this.cluster.connection(leader);
    const r = await conn.request(MirrorProduce, {
      flow,
      timeoutMs: this.config.requestTimeoutMs ?? 30000,
      topics: [
        { name: topic, partitions: [{ index: partition, expectedLogEndOffset: fetchedFrom, records }] },
      ],
    });
    const p = r.topics[0]?.partitions[0];
    if (p === undefined)
      throw new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, `no answer for ${topic}-${partition}`);
    if (p.errorCode !== ErrorCode.NONE) {
      throw new KafkaProtocolError(p.errorCode, p.errorMessage ?? `mirror produce to ${topic}-${partition}`);
    }
    return p.logEndOffset;
  }

  async close(): Promise<void> {
    if (this.producerInstance !== null) await this.producerInstance.flush().catch(() => undefined);
    await this.cluster.close();
  }
}

/**
 * Hot path: one Fetch for one partition; stored batches come back as they are (never
 * decoded), a partial batch at the end cut off.
 */
async function fetchOn(
  conn: Connection,
  topic: string,
  partition: number,
  offset: number,
  maxBytes: number,
  maxWaitMs: number,
  requestTimeoutMs: number,
  isolationLevel: IsolationLevel,
): Promise<RawFetch> {
  const r = await conn.request(
    Fetch,
    {
      replicaId: -1,
      maxWaitMs,
      minBytes: 1,
      maxBytes,
      isolationLevel,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic,
          partitions: [
            {
              partition,
              currentLeaderEpoch: -1,
              fetchOffset: offset,
              lastFetchedEpoch: -1,
              logStartOffset: -1,
              partitionMaxBytes: maxBytes,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    },
    { timeoutMs: requestTimeoutMs + maxWaitMs },
  );
  const p = r.responses[0]?.partitions[0];
  if (p === undefined)
    throw new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, `no fetch answer for ${topic}-${partition}`);
  const all = p.records ?? Buffer.alloc(0);
  let at = 0;
  let next = offset;
  while (all.length - at >= BATCH.HEADER_SIZE) {
    const size = all.readInt32BE(at + BATCH.BATCH_LENGTH) + BATCH.LOG_OVERHEAD;
    if (at + size > all.length) break;
    next =
      all.readInt32BE(at) * 4294967296 +
      all.readUInt32BE(at + 4) +
      all.readInt32BE(at + BATCH.LAST_OFFSET_DELTA) +
      1;
    at += size;
  }
  return {
    errorCode: p.errorCode,
    records: at === all.length ? all : all.subarray(0, at),
    highWatermark: p.highWatermark,
    logStartOffset: p.logStartOffset,
    nextOffset: next,
    abortedTransactions: p.abortedTransactions ?? [],
  };
}

/**
 * One unit's reader of one source partition, on a connection of its own: a long poll on a
 * quiet partition must not hold up other units' answers queued behind it (a broker answers
 * a connection's requests in order).
 */
export class PartitionReader {
  private conn: Connection | null = null;
  private connLeader = -1;

  constructor(
    private readonly clients: ClusterClients,
    readonly topic: string,
    readonly partition: number,
  ) {}

  async fetch(
    offset: number,
    maxBytes: number,
    maxWaitMs: number,
    isolationLevel: IsolationLevel = 0,
  ): Promise<RawFetch> {
    const leader = await this.clients.leader(this.topic, this.partition);
    if (this.conn === null || !this.conn.isOpen || this.connLeader !== leader) {
      this.conn?.close();
      const b = this.clients.cluster.broker(leader);
      if (b === undefined)
        throw new KafkaProtocolError(ErrorCode.LEADER_NOT_AVAILABLE, `broker ${leader} is not known`);
      const { clientId, ssl, sasl } = this.clients.options();
      this.conn = await new Connection({ host: b.host, port: b.port, clientId, ssl, sasl }).connect();
      this.connLeader = leader;
    }
    const timeout = this.clients.config.requestTimeoutMs ?? 30000;
    return fetchOn(
      this.conn,
      this.topic,
      this.partition,
      offset,
      maxBytes,
      maxWaitMs,
      timeout,
      isolationLevel,
    );
  }

  close(): void {
    this.conn?.close();
    this.conn = null;
  }
}

export function isConnectionProblem(err: unknown): boolean {
  return err instanceof ConnectionError || (err instanceof KafkaProtocolError && err.retriable);
}

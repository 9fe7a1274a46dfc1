import { Connection, type SecurityOptions } from '@tributary/client';
import type {
  MarkerPartitionResult,
  TransactionVerification,
  TxnBrokerChannel,
  TxnMarkerEntry,
} from '@tributary/broker';
import { AddPartitionsToTxn, ErrorCode, KafkaProtocolError, WriteTxnMarkers } from '@tributary/protocol';
import type { ClusterMetadata } from './cluster-metadata';

export interface TxnBrokerChannelDeps {
  readonly localId: number;
  /** How to reach the other brokers' inter-broker listener (TLS, SASL). */
  readonly security: SecurityOptions;
  readonly metadata: ClusterMetadata;
  readonly requestTimeoutMs: number;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * Transactions' requests between brokers (Kafka's TransactionMarkerChannelManager and
 * AddPartitionsToTxnManager sides): WriteTxnMarkers from a coordinator to partition leaders,
 * AddPartitionsToTxn v4 verifyOnly from a partition leader to a coordinator (KIP-890). One
 * connection per broker over its inter-broker listener, opened on first use and again after
 * it failed.
 */
export class InterBrokerTxnChannel implements TxnBrokerChannel {
  private readonly connections = new Map<number, Promise<Connection>>();
  private closed = false;

  constructor(private readonly deps: TxnBrokerChannelDeps) {}

  private async connection(brokerId: number): Promise<Connection> {
    if (this.closed) throw new KafkaProtocolError(ErrorCode.BROKER_NOT_AVAILABLE, 'the channel is closed');
    const cached = this.connections.get(brokerId);
    if (cached !== undefined) {
      const conn = await cached.catch(() => null);
      if (conn?.isOpen === true) return conn;
      // Closed or never opened: whoever notices first opens another.
      if (this.connections.get(brokerId) !== cached) return this.connection(brokerId);
      this.connections.delete(brokerId);
    }
    const opening = this.open(brokerId);
    this.connections.set(brokerId, opening);
    return opening;
  }

  private async open(brokerId: number): Promise<Connection> {
    const registration = this.deps.metadata.registration(brokerId);
    if (registration === undefined)
      throw new KafkaProtocolError(ErrorCode.BROKER_NOT_AVAILABLE, `broker ${brokerId} is not registered`);
    const conn = new Connection({
      host: registration.host,
      port: registration.port,
      clientId: `broker-${this.deps.localId}-txn-${brokerId}`,
      requestTimeoutMs: this.deps.requestTimeoutMs,
      connectTimeoutMs: this.deps.requestTimeoutMs,
      ssl: this.deps.security.ssl,
      sasl: this.deps.security.sasl,
    });
    await conn.connect();
    if (this.closed) conn.close();
    return conn;
  }

  async writeTxnMarkers(
    brokerId: number,
    markers: readonly TxnMarkerEntry[],
  ): Promise<MarkerPartitionResult[][]> {
    const conn = await this.connection(brokerId);
    const response = await conn.request(WriteTxnMarkers, {
      markers: markers.map((m) => ({
        producerId: m.producerId,
        producerEpoch: m.producerEpoch,
        transactionResult: m.committed,
        coordinatorEpoch: m.coordinatorEpoch,
        topics: [...groupByTopic(m.partitions)].map(([name, partitionIndexes]) => ({
          name,
          partitionIndexes,
        })),
      })),
    });
    const byProducer = new Map(response.markers.map((m) => [m.producerId, m]));
    return markers.map((m) => {
      const errors = new Map<string, number>();
      for (const t of byProducer.get(m.producerId)?.topics ?? [])
        for (const p of t.partitions) errors.set(key(t.name, p.partitionIndex), p.errorCode);
      // A partition left out of the answer is tried again.
      return m.partitions.map((tp) => ({
        ...tp,
        errorCode: errors.get(key(tp.topic, tp.partition)) ?? ErrorCode.UNKNOWN_SERVER_ERROR,
      }));
    });
  }

  async verifyPartitions(
    brokerId: number,
    request: TransactionVerification,
  ): Promise<MarkerPartitionResult[]> {
    const conn = await this.connection(brokerId);
    const response = await conn.request(
      AddPartitionsToTxn,
      {
        transactions: [
          {
            transactionalId: request.transactionalId,
            producerId: request.producerId,
            producerEpoch: request.producerEpoch,
            verifyOnly: true,
            topics: [...groupByTopic(request.partitions)].map(([name, partitions]) => ({ name, partitions })),
          },
        ],
      },
      { version: 4 },
    );
    const errors = new Map<string, number>();
    for (const t of response.resultsByTransaction[0]?.topicResults ?? [])
      for (const p of t.resultsByPartition) errors.set(key(t.name, p.partitionIndex), p.partitionErrorCode);
    return request.partitions.map((tp) => ({
      ...tp,
      errorCode:
        response.errorCode !== ErrorCode.NONE
          ? response.errorCode
          : (errors.get(key(tp.topic, tp.partition)) ?? ErrorCode.UNKNOWN_SERVER_ERROR),
    }));
  }

  close(): void {
    this.closed = true;
    for (const opening of this.connections.values())
      opening.then(
        (c) => c.close(),
        () => undefined,
      );
    this.connections.clear();
  }
}

function groupByTopic(partitions: readonly { topic: string; partition: number }[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    const list = out.get(topic);
    if (list === undefined) out.set(topic, [partition]);
    else list.push(partition);
  }
  return out;
}

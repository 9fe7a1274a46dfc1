import type { SecurityOptions } from '@tributary/client';
import { Connection } from '@tributary/client';
import type { MarkerPartitionResult, TxnMarkerEntry, TxnMarkerSender } from '@tributary/broker';
import { ErrorCode, KafkaProtocolError, WriteTxnMarkers } from '@tributary/protocol';
import type { ClusterMetadata } from './cluster-metadata';

export interface TxnMarkerSenderDeps {
  readonly localId: number;
  /** How to reach the other brokers' inter-broker listener (TLS, SASL). */
  readonly security: SecurityOptions;
  readonly metadata: ClusterMetadata;
  readonly requestTimeoutMs: number;
}

/**
 * The transaction coordinator's channel to other brokers (Kafka's TransactionMarkerChannel):
 * one connection per destination broker over its inter-broker listener, opened on first use
 * and again after a failure, carrying WriteTxnMarkers requests.
 */
export class InterBrokerTxnMarkerSender implements TxnMarkerSender {
  private readonly connections = new Map<number, Connection>();
  private closed = false;

  constructor(private readonly deps: TxnMarkerSenderDeps) {}

  /** The connection to a broker; the channel sends one request at a time per broker, so none is opened twice. */
  private async connect(brokerId: number): Promise<Connection> {
    const open = this.connections.get(brokerId);
    if (open?.isOpen === true) return open;
    open?.close();
    this.connections.delete(brokerId);
    const registration = this.deps.metadata.registration(brokerId);
    if (registration === undefined)
      throw new KafkaProtocolError(ErrorCode.BROKER_NOT_AVAILABLE, `broker ${brokerId} is not registered`);
    const conn = new Connection({
      host: registration.host,
      port: registration.port,
      clientId: `broker-${this.deps.localId}-txn-markers-${brokerId}`,
      requestTimeoutMs: this.deps.requestTimeoutMs,
      connectTimeoutMs: this.deps.requestTimeoutMs,
      ssl: this.deps.security.ssl,
      sasl: this.deps.security.sasl,
    });
    await conn.connect();
    if (this.closed) {
      conn.close();
      throw new KafkaProtocolError(ErrorCode.BROKER_NOT_AVAILABLE, 'the marker channel is closed');
    }
    this.connections.set(brokerId, conn);
    return conn;
  }

  async writeTxnMarkers(
    brokerId: number,
    markers: readonly TxnMarkerEntry[],
  ): Promise<MarkerPartitionResult[][]> {
    if (this.closed)
      throw new KafkaProtocolError(ErrorCode.BROKER_NOT_AVAILABLE, 'the marker channel is closed');
    const conn = await this.connect(brokerId);
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
      const answered = byProducer.get(m.producerId);
      const errors = new Map<string, number>();
      for (const t of answered?.topics ?? [])
        for (const p of t.partitions) errors.set(`${t.name}\u0000${p.partitionIndex}`, p.errorCode);
      return m.partitions.map((tp) => ({
        topic: tp.topic,
        partition: tp.partition,
        // A partition left out of the answer is tried again.
        errorCode: errors.get(`${tp.topic}\u0000${tp.partition}`) ?? ErrorCode.UNKNOWN_SERVER_ERROR,
      }));
    });
  }

  close(): void {
    this.closed = true;
    for (const conn of this.connections.values()) conn.close();
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

import {
  AddOffsetsToTxn,
  AddPartitionsToTxn,
  EndTxn,
  ErrorCode,
  InitProducerId,
  KafkaProtocolError,
  TxnOffsetCommit,
} from '@tributary/protocol';
import { sleep, type Cluster } from '../cluster/cluster';

/** A consumer's place in its group, as sendOffsetsToTransaction passes it on (KIP-447 fencing). */
export interface ConsumerGroupMetadata {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

/**
 * ready: between transactions; inTransaction: after beginTransaction; abortable: a send in the
 * transaction failed, so only abortTransaction is allowed; fatal: the producer was fenced or
 * refused, and must be closed (the Java client's TransactionManager states).
 */
type TxnState = 'uninitialized' | 'ready' | 'inTransaction' | 'abortable' | 'fatal';

/** Errors after which this producer instance can never go on. */
const FATAL = new Set<number>([
  ErrorCode.PRODUCER_FENCED,
  ErrorCode.INVALID_PRODUCER_EPOCH,
  ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  ErrorCode.TRANSACTION_COORDINATOR_FENCED,
  ErrorCode.INVALID_PRODUCER_ID_MAPPING,
  ErrorCode.UNSUPPORTED_VERSION,
]);

/** Coordinator errors that mean: ask again (find it again, or wait for it). */
const RETRY = new Set<number>([
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.CONCURRENT_TRANSACTIONS,
]);

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * A transactional producer's side of Kafka's transaction protocol (KIP-98): the producer id and
 * epoch from InitProducerId with the transactional id, the partitions and groups added to the
 * current transaction at the coordinator before anything is written to them, and EndTxn.
 */
export class TransactionManager {
  private state: TxnState = 'uninitialized';
  private failure: Error | null = null;
  private coordinator = -1;
  producerId = -1;
  producerEpoch = -1;
  private readonly added = new Set<string>();
  private readonly pending = new Map<string, { topic: string; partition: number }>();
  private adding: Promise<void> | null = null;
  /** A group's offsets joined the transaction (its __consumer_offsets partition is in it). */
  private addedOffsets = false;

  constructor(
    private readonly cluster: Cluster,
    readonly transactionalId: string,
    private readonly transactionTimeoutMs: number,
  ) {}

  /** Throws unless the producer may write records now (inside a transaction, not failed). */
  checkSendable(): void {
    if (this.state === 'inTransaction') return;
    if (this.state === 'abortable' || this.state === 'fatal') throw this.failedWith();
    throw new Error(
      this.state === 'uninitialized'
        ? 'call initTransactions() before sending with a transactional producer'
        : 'call beginTransaction() before sending with a transactional producer',
    );
  }

  private failedWith(): Error {
    const why = this.failure?.message ?? 'an earlier error';
    return new Error(
      this.state === 'fatal'
        ? `the transactional producer cannot go on after ${why}: close it and create another`
        : `the transaction failed (${why}): abort it`,
      { cause: this.failure },
    );
  }

  /** A send in the transaction failed: the transaction can only be aborted (or the producer is done). */
  fail(err: Error): void {
    if (this.state === 'fatal') return;
    this.failure = err;
    this.state = err instanceof KafkaProtocolError && FATAL.has(err.code) ? 'fatal' : 'abortable';
  }

  /** Whether batches for this partition may go out (it was added to the transaction). */
  isAdded(topic: string, partition: number): boolean {
    return this.added.has(key(topic, partition));
  }

  /** Notes a partition the transaction will write; AddPartitionsToTxn runs before its first batch goes out. */
  want(topic: string, partition: number): void {
    const k = key(topic, partition);
    if (!this.added.has(k)) this.pending.set(k, { topic, partition });
  }

  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  private async coordinatorId(refresh: boolean): Promise<number> {
    if (refresh || this.coordinator < 0)
      this.coordinator = await this.cluster.findCoordinator(this.transactionalId, 1);
    return this.coordinator;
  }

  /**
   * Sends a request to the transaction coordinator, finding it again and retrying while it
   * moves, loads or finishes a previous operation (Kafka's client does the same).
   */
  private async toCoordinator<T>(
    what: string,
    send: (node: number) => Promise<{ code: number; value: T }>,
  ): Promise<T> {
    let refresh = false;
    for (let attempt = 0; ; attempt++) {
      const node = await this.coordinatorId(refresh);
      let code: number;
      let value: T;
      try {
        ({ code, value } = await send(node));
      } catch (err) {
        if (attempt >= 20 || !(err instanceof Error)) throw err;
        refresh = true;
        await sleep(Math.min(1000, 20 * 2 ** attempt));
        continue;
      }
      if (code === ErrorCode.NONE) return value;
      if (!RETRY.has(code) || attempt >= 50)
        throw new KafkaProtocolError(code, `${what} for ${this.transactionalId}`);
      refresh = code === ErrorCode.NOT_COORDINATOR || code === ErrorCode.COORDINATOR_NOT_AVAILABLE;
      await sleep(code === ErrorCode.CONCURRENT_TRANSACTIONS ? 20 : Math.min(1000, 20 * 2 ** attempt));
    }
  }

  /**
   * InitProducerId with the transactional id: a producer id and a new epoch, which fences any
   * earlier producer with the same transactional id and completes its open transaction.
   */
  async initTransactions(): Promise<void> {
    if (this.state === 'fatal') throw this.failedWith();
    const r = await this.toCoordinator('InitProducerId', async (node) => {
      const res = await this.cluster.send(node, InitProducerId, {
        transactionalId: this.transactionalId,
        transactionTimeoutMs: this.transactionTimeoutMs,
        producerId: this.producerId,
        producerEpoch: this.producerEpoch,
      });
      return { code: res.errorCode, value: res };
    });
    this.producerId = r.producerId;
    this.producerEpoch = r.producerEpoch;
    this.state = 'ready';
    this.added.clear();
    this.pending.clear();
  }

  beginTransaction(): void {
    if (this.state !== 'ready')
      throw this.state === 'abortable' || this.state === 'fatal'
        ? this.failedWith()
        : new Error(
            `beginTransaction() needs a producer between transactions, not one that is ${this.state}`,
          );
    this.state = 'inTransaction';
  }

  /** Adds the partitions noted since the last call to the transaction; one request at a time. */
  addPending(): Promise<void> {
    this.adding ??= this.addPendingNow().finally(() => {
      this.adding = null;
    });
    return this.adding;
  }

  private async addPendingNow(): Promise<void> {
    while (this.pending.size > 0) {
      const batch = [...this.pending.values()];
      const byTopic = new Map<string, number[]>();
      for (const p of batch) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
      const results = await this.toCoordinator('AddPartitionsToTxn', async (node) => {
        const res = await this.cluster.send(node, AddPartitionsToTxn, {
          v3AndBelowTransactionalId: this.transactionalId,
          v3AndBelowProducerId: this.producerId,
          v3AndBelowProducerEpoch: this.producerEpoch,
          v3AndBelowTopics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
        });
        const codes = res.resultsByTopicV3AndBelow.flatMap((t) =>
          t.resultsByPartition.map((p) => ({
            topic: t.name,
            partition: p.partitionIndex,
            code: p.partitionErrorCode,
          })),
        );
        // The coordinator answers per partition; a retriable one for any means: ask again for all.
        const retry = codes.find((c) => RETRY.has(c.code));
        return { code: retry?.code ?? ErrorCode.NONE, value: codes };
      });
      const failedCode = results.find(
        (c) => c.code !== ErrorCode.NONE && c.code !== ErrorCode.OPERATION_NOT_ATTEMPTED,
      );
      if (failedCode !== undefined) {
        const err = new KafkaProtocolError(
          failedCode.code,
          `AddPartitionsToTxn ${failedCode.topic}-${failedCode.partition} for ${this.transactionalId}`,
        );
        this.fail(err);
        throw err;
      }
      for (const p of batch) {
        const k = key(p.topic, p.partition);
        this.pending.delete(k);
        this.added.add(k);
      }
    }
  }

  /**
   * Makes a consumer group's offsets part of the transaction: AddOffsetsToTxn to the transaction
   * coordinator, then TxnOffsetCommit to the group's coordinator. They become the group's
   * committed offsets only if the transaction commits.
   */
  async sendOffsets(
    offsets: readonly {
      topic: string;
      partition: number;
      offset: number;
      metadata?: string | null;
      leaderEpoch?: number;
    }[],
    group: ConsumerGroupMetadata,
  ): Promise<void> {
    this.checkSendable();
    await this.toCoordinator('AddOffsetsToTxn', async (node) => {
      const res = await this.cluster.send(node, AddOffsetsToTxn, {
        transactionalId: this.transactionalId,
        producerId: this.producerId,
        producerEpoch: this.producerEpoch,
        groupId: group.groupId,
      });
      return { code: res.errorCode, value: null };
    }).catch((err: unknown) => {
      this.fail(err as Error);
      throw err;
    });
    this.addedOffsets = true;
    const byTopic = new Map<string, typeof offsets>();
    for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o]);
    for (let attempt = 0; ; attempt++) {
      const node = await this.cluster.findCoordinator(group.groupId);
      const res = await this.cluster.send(node, TxnOffsetCommit, {
        transactionalId: this.transactionalId,
        groupId: group.groupId,
        producerId: this.producerId,
        producerEpoch: this.producerEpoch,
        generationId: group.generationId,
        memberId: group.memberId,
        groupInstanceId: group.groupInstanceId,
        topics: [...byTopic].map(([name, list]) => ({
          name,
          partitions: list.map((o) => ({
            partitionIndex: o.partition,
            committedOffset: o.offset,
            committedLeaderEpoch: o.leaderEpoch ?? -1,
            committedMetadata: o.metadata ?? '',
          })),
        })),
      });
      const codes = res.topics.flatMap((t) => t.partitions.map((p) => p.errorCode));
      const bad = codes.find((c) => c !== ErrorCode.NONE);
      if (bad === undefined) return;
      if (RETRY.has(bad) && attempt < 20) {
        await sleep(Math.min(1000, 20 * 2 ** attempt));
        continue;
      }
      const err = new KafkaProtocolError(
        bad,
        `TxnOffsetCommit of group ${group.groupId} for ${this.transactionalId}`,
      );
      this.fail(err);
      throw err;
    }
  }

  /** EndTxn: commits or aborts the transaction at the coordinator, which writes the markers. */
  async endTransaction(commit: boolean): Promise<void> {
    if (this.state === 'fatal') throw this.failedWith();
    if (commit && this.state === 'abortable') throw this.failedWith();
    if (this.state !== 'inTransaction' && this.state !== 'abortable')
      throw new Error(`${commit ? 'commit' : 'abort'}Transaction() needs an open transaction`);
    // Nothing was added: the coordinator has no transaction to end (as the Java client skips the call).
    if (this.added.size > 0 || this.addedOffsets) {
      await this.toCoordinator('EndTxn', async (node) => {
        const res = await this.cluster.send(node, EndTxn, {
          transactionalId: this.transactionalId,
          producerId: this.producerId,
          producerEpoch: this.producerEpoch,
          committed: commit,
        });
        return { code: res.errorCode, value: null };
      }).catch((err: unknown) => {
        this.fail(err as Error);
        throw err;
      });
    }
    this.added.clear();
    this.pending.clear();
    this.addedOffsets = false;
    this.failure = null;
    this.state = 'ready';
  }
}

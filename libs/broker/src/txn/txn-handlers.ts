import {
  AclOperation,
  AddOffsetsToTxn,
  AddPartitionsToTxn,
  DescribeTransactions,
  EndTxn,
  ErrorCode,
  ListTransactions,
} from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import { OFFSETS_TOPIC, type GroupStore } from '../group/group-store';
import type { ApiHandler } from '../handlers/handler';
import type { Connection } from '../network/connection';
import {
  authorizeCluster,
  authorizeGroup,
  authorizeTopic,
  authorizeTransactionalId,
} from '../security/authorize';
import { undescribedTransaction, type TransactionCoordinator } from './transaction-coordinator';
import { tpKey, type TopicPartition } from './transaction-metadata';

/**
 * The transaction coordinator's APIs (InitProducerId is with the producer ids, FindCoordinator
 * and TxnOffsetCommit with the groups). With an authorizer, as Kafka maps them:
 * AddPartitionsToTxn, AddOffsetsToTxn and EndTxn need WRITE on the transactional id (else
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED), plus WRITE on each topic added or READ on the
 * group whose offsets join; brokers' AddPartitionsToTxn (v4+) needs CLUSTER_ACTION;
 * DescribeTransactions and ListTransactions DESCRIBE on each transactional id shown.
 */
export function txnHandlers(
  ctx: BrokerContext,
  txn: TransactionCoordinator,
  groups: GroupStore,
): ApiHandler[] {
  return [
    addPartitionsToTxnHandler(ctx, txn),
    addOffsetsToTxnHandler(ctx, txn, groups),
    endTxnHandler(ctx, txn),
    describeTransactionsHandler(ctx, txn),
    listTransactionsHandler(ctx, txn),
  ] as ApiHandler[];
}

/** Before the versions that know PRODUCER_FENCED, clients are told INVALID_PRODUCER_EPOCH, as Kafka does. */
function fencedFor(errorCode: number, apiVersion: number, firstVersionWithFenced: number): number {
  return errorCode === ErrorCode.PRODUCER_FENCED && apiVersion < firstVersionWithFenced
    ? ErrorCode.INVALID_PRODUCER_EPOCH
    : errorCode;
}

function partitionExists(ctx: BrokerContext, tp: TopicPartition): boolean {
  const t = ctx.cluster.topic(tp.topic);
  return t !== undefined && tp.partition >= 0 && tp.partition < t.numPartitions;
}

type TopicResult = {
  name: string;
  resultsByPartition: { partitionIndex: number; partitionErrorCode: number }[];
};

function topicResults(
  topics: readonly { name: string; partitions: number[] }[],
  errorOf: (tp: TopicPartition) => number,
): TopicResult[] {
  return topics.map((t) => ({
    name: t.name,
    resultsByPartition: t.partitions.map((partition) => ({
      partitionIndex: partition,
      partitionErrorCode: errorOf({ topic: t.name, partition }),
    })),
  }));
}

/**
 * Adds one transaction's partitions (Kafka's handleAddPartitionsToTxnRequest): any partition
 * refused (not authorized, unknown) fails the whole request, the others answered
 * OPERATION_NOT_ATTEMPTED; otherwise every partition gets the coordinator's answer.
 */
async function addPartitions(
  ctx: BrokerContext,
  txn: TransactionCoordinator,
  connection: Connection,
  transaction: { transactionalId: string; producerId: number; producerEpoch: number },
  topics: readonly { name: string; partitions: number[] }[],
  checkTopicAcls: boolean,
): Promise<(tp: TopicPartition) => number> {
  const partitions = topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
  const refused = new Map<string, number>();
  for (const tp of partitions) {
    if (checkTopicAcls && !authorizeTopic(ctx, connection, AclOperation.WRITE, tp.topic))
      refused.set(tpKey(tp), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    else if (!partitionExists(ctx, tp)) refused.set(tpKey(tp), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  }
  if (refused.size > 0) return (tp) => refused.get(tpKey(tp)) ?? ErrorCode.OPERATION_NOT_ATTEMPTED;
  const code = await txn.addPartitions(
    transaction.transactionalId,
    transaction.producerId,
    transaction.producerEpoch,
    partitions,
  );
  return () => code;
}

export function addPartitionsToTxnHandler(
  ctx: BrokerContext,
  txn: TransactionCoordinator,
): ApiHandler<typeof AddPartitionsToTxn> {
  return {
    api: AddPartitionsToTxn,
    async handle(request, { apiVersion, connection }) {
      if (apiVersion < 4) {
        const topics = request.v3AndBelowTopics;
        const transactionalId = request.v3AndBelowTransactionalId;
        let errorOf: (tp: TopicPartition) => number;
        if (!authorizeTransactionalId(ctx, connection, AclOperation.WRITE, transactionalId))
          errorOf = () => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        else {
          const transaction = {
            transactionalId,
            producerId: request.v3AndBelowProducerId,
            producerEpoch: request.v3AndBelowProducerEpoch,
          };
          const result = await addPartitions(ctx, txn, connection, transaction, topics, true);
          errorOf = (tp) => fencedFor(result(tp), apiVersion, 2);
        }
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.NONE,
          resultsByTransaction: [],
          resultsByTopicV3AndBelow: topicResults(topics, errorOf),
        };
      }
      // v4+: from brokers verifying (KIP-890) or adding for their producers' transactions.
      if (!authorizeCluster(ctx, connection, AclOperation.CLUSTER_ACTION))
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          resultsByTransaction: [],
          resultsByTopicV3AndBelow: [],
        };
      const resultsByTransaction = await Promise.all(
        request.transactions.map(async (t) => {
          let errorOf: (tp: TopicPartition) => number;
          if (t.verifyOnly) {
            const partitions = t.topics.flatMap((x) =>
              x.partitions.map((partition) => ({ topic: x.name, partition })),
            );
            const verified = txn.verifyPartitions(
              t.transactionalId,
              t.producerId,
              t.producerEpoch,
              partitions,
            );
            errorOf = (tp) => verified.get(tpKey(tp)) ?? ErrorCode.NONE;
          } else errorOf = await addPartitions(ctx, txn, connection, t, t.topics, false);
          return { transactionalId: t.transactionalId, topicResults: topicResults(t.topics, errorOf) };
        }),
      );
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        resultsByTransaction,
        resultsByTopicV3AndBelow: [],
      };
    },
  };
}

/** AddOffsetsToTxn: the group's partition of __consumer_offsets joins the transaction. */
export function addOffsetsToTxnHandler(
  ctx: BrokerContext,
  txn: TransactionCoordinator,
  groups: GroupStore,
): ApiHandler<typeof AddOffsetsToTxn> {
  return {
    api: AddOffsetsToTxn,
    async handle(request, { apiVersion, connection }) {
      const answer = (errorCode: number) => ({
        throttleTimeMs: 0,
        errorCode: fencedFor(errorCode, apiVersion, 2),
      });
      if (!authorizeTransactionalId(ctx, connection, AclOperation.WRITE, request.transactionalId))
        return answer(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
      if (!authorizeGroup(ctx, connection, AclOperation.READ, request.groupId))
        return answer(ErrorCode.GROUP_AUTHORIZATION_FAILED);
      const partition = { topic: OFFSETS_TOPIC, partition: groups.partitionFor(request.groupId) };
      return answer(
        await txn.addPartitions(request.transactionalId, request.producerId, request.producerEpoch, [
          partition,
        ]),
      );
    },
  };
}

export function endTxnHandler(ctx: BrokerContext, txn: TransactionCoordinator): ApiHandler<typeof EndTxn> {
  return {
    api: EndTxn,
    async handle(request, { apiVersion, connection }) {
      if (!authorizeTransactionalId(ctx, connection, AclOperation.WRITE, request.transactionalId))
        return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
      const code = await txn.endTxn(
        request.transactionalId,
        request.producerId,
        request.producerEpoch,
        request.committed,
      );
      return { throttleTimeMs: 0, errorCode: fencedFor(code, apiVersion, 2) };
    },
  };
}

/** DescribeTransactions: each id's state here; the partitions of topics the principal may not describe are left out. */
export function describeTransactionsHandler(
  ctx: BrokerContext,
  txn: TransactionCoordinator,
): ApiHandler<typeof DescribeTransactions> {
  return {
    api: DescribeTransactions,
    handle(request, { connection }) {
      return {
        throttleTimeMs: 0,
        transactionStates: request.transactionalIds.map((transactionalId) => {
          const d = authorizeTransactionalId(ctx, connection, AclOperation.DESCRIBE, transactionalId)
            ? txn.describeTransaction(transactionalId)
            : undescribedTransaction(transactionalId, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
          const topics = new Map<string, number[]>();
          for (const tp of d.topicPartitions) {
            if (!authorizeTopic(ctx, connection, AclOperation.DESCRIBE, tp.topic)) continue;
            const list = topics.get(tp.topic);
            if (list === undefined) topics.set(tp.topic, [tp.partition]);
            else list.push(tp.partition);
          }
          return {
            errorCode: d.errorCode,
            transactionalId,
            transactionState: d.state,
            transactionTimeoutMs: d.transactionTimeoutMs,
            transactionStartTimeMs: d.transactionStartTimeMs,
            producerId: d.producerId,
            producerEpoch: d.producerEpoch,
            topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
          };
        }),
      };
    },
  };
}

/** ListTransactions: this coordinator's transactional ids the principal may describe. */
export function listTransactionsHandler(
  ctx: BrokerContext,
  txn: TransactionCoordinator,
): ApiHandler<typeof ListTransactions> {
  return {
    api: ListTransactions,
    handle(request, { apiVersion, connection }) {
      const listed = txn.listTransactions(
        request.producerIdFilters,
        request.stateFilters,
        apiVersion >= 1 ? request.durationFilter : -1,
      );
      return {
        throttleTimeMs: 0,
        errorCode: listed.errorCode,
        unknownStateFilters: listed.unknownStateFilters,
        transactionStates: listed.transactions
          .filter((t) => authorizeTransactionalId(ctx, connection, AclOperation.DESCRIBE, t.transactionalId))
          .map((t) => ({
            transactionalId: t.transactionalId,
            producerId: t.producerId,
            transactionState: t.state,
          })),
      };
    },
  };
}

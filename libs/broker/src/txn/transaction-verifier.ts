import { ErrorCode } from '@tributary/protocol';
import type { BrokerLogger, ClusterView } from '../broker-context';
import type { TransactionCoordinator } from './transaction-coordinator';
import { TRANSACTION_STATE_TOPIC } from './transaction-log';
import type { TransactionVerification, TransactionVerifier } from '../replica/replica-manager';
import type { TxnBrokerChannel } from './transaction-marker-channel-manager';
import { tpKey } from './transaction-metadata';

export interface TransactionVerifierDeps {
  readonly localId: number;
  readonly cluster: ClusterView;
  readonly coordinator: TransactionCoordinator;
  /** Other brokers' coordinators; null on a lone broker, which coordinates every transaction. */
  readonly channel: TxnBrokerChannel | null;
  readonly logger: BrokerLogger;
}

/**
 * KIP-890's question from a partition leader, about a transactional producer's first batch
 * there, to the producer's transaction coordinator (Kafka's AddPartitionsToTxnManager): asked
 * directly when this broker is the coordinator, else with AddPartitionsToTxn v4 verifyOnly.
 * Per partition: NONE when it is in the transaction, INVALID_TXN_STATE when not, or the
 * coordinator's error (COORDINATOR_NOT_AVAILABLE when it cannot be reached).
 */
export function transactionVerifier(deps: TransactionVerifierDeps): TransactionVerifier {
  return async (request: TransactionVerification) => {
    const all = (errorCode: number) => request.partitions.map((tp) => ({ ...tp, errorCode }));
    const { cluster, coordinator, channel, localId } = deps;
    const leader =
      cluster.topic(TRANSACTION_STATE_TOPIC) === undefined
        ? -1
        : cluster.leadership(TRANSACTION_STATE_TOPIC, coordinator.partitionFor(request.transactionalId))
            .leaderId;
    if (leader === localId) {
      const verified = coordinator.verifyPartitions(
        request.transactionalId,
        request.producerId,
        request.producerEpoch,
        request.partitions,
      );
      return request.partitions.map((tp) => ({
        ...tp,
        errorCode: verified.get(tpKey(tp)) ?? ErrorCode.NONE,
      }));
    }
    if (leader < 0 || channel === null) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    try {
      return await channel.verifyPartitions(leader, request);
    } catch (err) {
      deps.logger.warn(
        `verifying the transaction of ${request.transactionalId} with broker ${leader} failed: ${(err as Error).message}`,
      );
      return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    }
  };
}

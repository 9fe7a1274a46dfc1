import { AclOperation, AclResourceType, ErrorCode, errorCodeOf, InitProducerId } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import type { ProducerIdManager } from '../producer-id-manager';
import type { TransactionCoordinator } from '../txn/transaction-coordinator';
import type { ApiHandler } from './handler';
import { authorizeCluster, authorizeTransactionalId } from '../security/authorize';

/**
 * InitProducerId. With a transactionalId it goes to the transaction coordinator (a producer
 * id kept for that id, a new epoch that fences the previous instance; WRITE on the
 * transactional id, else TRANSACTIONAL_ID_AUTHORIZATION_FAILED); before v4 PRODUCER_FENCED is
 * answered as INVALID_PRODUCER_EPOCH, which older clients know. Without one (an idempotent
 * producer) it always gets a fresh producer id with epoch 0, as in Kafka: a producer that
 * passes its current id and epoch (v3+, after an unresolved sequence) is given a new id
 * rather than a bumped epoch, and needs IDEMPOTENT_WRITE on the cluster or WRITE on some
 * topic (KIP-679), else CLUSTER_AUTHORIZATION_FAILED. A producer id without an epoch, or
 * the reverse, is INVALID_REQUEST.
 */
export function initProducerIdHandler(
  ctx: BrokerContext,
  producerIds: ProducerIdManager,
  txn: TransactionCoordinator,
): ApiHandler<typeof InitProducerId> {
  const fail = (errorCode: number) => ({ throttleTimeMs: 0, errorCode, producerId: -1, producerEpoch: -1 });
  return {
    api: InitProducerId,
    async handle(request, { apiVersion, connection }) {
      const transactionalId = request.transactionalId;
      if (transactionalId !== null) {
        if (!authorizeTransactionalId(ctx, connection, AclOperation.WRITE, transactionalId))
          return fail(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
      } else if (
        !authorizeCluster(ctx, connection, AclOperation.IDEMPOTENT_WRITE) &&
        !ctx.security.authorizer.authorizeByResourceType(
          connection.session,
          AclOperation.WRITE,
          AclResourceType.TOPIC,
        )
      )
        return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
      if ((request.producerId === -1) !== (request.producerEpoch === -1))
        return fail(ErrorCode.INVALID_REQUEST);
      if (transactionalId !== null) {
        const expected =
          request.producerId === -1
            ? null
            : { producerId: request.producerId, producerEpoch: request.producerEpoch };
        const result = await txn.initProducerId(transactionalId, request.transactionTimeoutMs, expected);
        const errorCode =
          apiVersion < 4 && result.errorCode === ErrorCode.PRODUCER_FENCED
            ? ErrorCode.INVALID_PRODUCER_EPOCH
            : result.errorCode;
        return { throttleTimeMs: 0, ...result, errorCode };
      }
      try {
        const producerId = await producerIds.generateProducerId();
        return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId, producerEpoch: 0 };
      } catch (err) {
        ctx.logger.error(`InitProducerId failed: ${(err as Error).message}`);
        return fail(errorCodeOf(err));
      }
    },
  };
}

import { AclOperation, AclResourceType, ErrorCode, errorCodeOf, InitProducerId } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import type { ProducerIdManager } from '../producer-id-manager';
import type { ApiHandler } from './handler';
import { authorizeCluster } from '../security/authorize';

/**
 * InitProducerId for idempotent producers (transactionalId null). As in Kafka, such a request
 * always gets a fresh producer id with epoch 0: a producer that passes its current id and
 * epoch (v3+, after an unresolved sequence) is given a new id rather than a bumped epoch,
 * since only a transaction coordinator keeps epochs per producer. A producer id without an
 * epoch, or the reverse, is INVALID_REQUEST. Transactions are not supported. With an
 * authorizer the producer needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic
 * (KIP-679), else CLUSTER_AUTHORIZATION_FAILED.
 */
export function initProducerIdHandler(
  ctx: BrokerContext,
  producerIds: ProducerIdManager,
): ApiHandler<typeof InitProducerId> {
  const fail = (errorCode: number) => ({ throttleTimeMs: 0, errorCode, producerId: -1, producerEpoch: -1 });
  return {
    api: InitProducerId,
    async handle(request, { connection }) {
      if (request.transactionalId !== null) return fail(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
      if (
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

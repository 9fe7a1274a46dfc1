import { AclResourceType, CLUSTER_RESOURCE_NAME } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import type { Connection } from '../network/connection';

/** Whether the connection's principal may do `operation` on a topic (cached per connection). */
export function authorizeTopic(
  ctx: BrokerContext,
  connection: Connection,
  operation: number,
  topic: string,
): boolean {
  return ctx.security.authorizer.authorize(connection.session, operation, AclResourceType.TOPIC, topic);
}

export function authorizeGroup(
  ctx: BrokerContext,
  connection: Connection,
  operation: number,
  group: string,
): boolean {
  return ctx.security.authorizer.authorize(connection.session, operation, AclResourceType.GROUP, group);
}

export function authorizeCluster(ctx: BrokerContext, connection: Connection, operation: number): boolean {
  return ctx.security.authorizer.authorize(
    connection.session,
    operation,
    AclResourceType.CLUSTER,
    CLUSTER_RESOURCE_NAME,
  );
}

/** Kafka's authorized-operations field: the bits of what the principal may do on the resource. */
export function authorizedOperations(
  ctx: BrokerContext,
  connection: Connection,
  resourceType: number,
  name: string,
): number {
  return ctx.security.authorizer.authorizedOperations(connection.session, resourceType, name);
}

/** What an authorized-operations field holds when the client did not ask for it. */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

export function authorizeTransactionalId(
  ctx: BrokerContext,
  connection: Connection,
  operation: number,
  transactionalId: string,
): boolean {
  return ctx.security.authorizer.authorize(
    connection.session,
    operation,
    AclResourceType.TRANSACTIONAL_ID,
    transactionalId,
  );
}

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

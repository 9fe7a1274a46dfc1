import type { BrokerContext } from '../broker-context';
import type { RequestContext } from '../handlers/handler';
import { UNLIMITED_MUTATIONS, type ControllerMutationQuota } from './client-quota-manager';

/**
 * producer_byte_rate: records a Produce (or MirrorProduce) request's size against its
 * client's quota and mutes the connection if it is over; answers the throttle time for
 * the response. Hot path: one flag test when no producer quota exists anywhere.
 */
export function throttleProduce(ctx: BrokerContext, rc: RequestContext): number {
  const quota = ctx.quotas.produce;
  if (!quota.enabled) return 0;
  const ms = quota.recordAndGetThrottleTimeMs(
    rc.connection.session,
    rc.header.clientId ?? '',
    rc.size,
    Date.now(),
  );
  rc.connection.throttle(ms);
  return ms;
}

/**
 * controller_mutation_rate for CreateTopics, CreatePartitions and DeleteTopics: strict
 * (refusing with THROTTLING_QUOTA_EXCEEDED) from the version that can say so, permissive before.
 */
export function mutationQuota(
  ctx: BrokerContext,
  rc: RequestContext,
  strictSince: number,
): ControllerMutationQuota {
  const quota = ctx.quotas.controllerMutation;
  if (!quota.enabled) return UNLIMITED_MUTATIONS;
  return quota.mutationQuota(rc.connection.session, rc.header.clientId ?? '', rc.apiVersion >= strictSince);
}

/** After a mutation request: its throttle time, with the connection muted for it. */
export function throttleMutations(rc: RequestContext, quota: ControllerMutationQuota): number {
  rc.connection.throttle(quota.throttleTimeMs);
  return quota.throttleTimeMs;
}

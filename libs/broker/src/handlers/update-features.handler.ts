import { AclOperation, ErrorCode, UpdateFeatures } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import { authorizeCluster } from '../security/authorize';
import type { ApiHandler } from './handler';

/**
 * UpdateFeatures (KIP-584). Tributary has no versioned features (ApiVersions advertises none
 * and no finalized levels), so every update is refused as Kafka's controller refuses a
 * feature it does not support: INVALID_UPDATE_VERSION naming the feature and the level.
 */
export function updateFeaturesHandler(ctx: BrokerContext): ApiHandler<typeof UpdateFeatures> {
  return {
    api: UpdateFeatures,
    handle(request, { apiVersion, connection }) {
      const answer = (errorCode: number, errorMessage: string | null, results: ResultList = []) => ({
        throttleTimeMs: 0,
        errorCode,
        errorMessage,
        results,
      });
      if (!authorizeCluster(ctx, connection, AclOperation.ALTER))
        return answer(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'not authorized: ALTER on the cluster');
      if (request.featureUpdates.length === 0)
        return answer(ErrorCode.INVALID_REQUEST, 'Feature updates can not be null or empty.');
      const results = request.featureUpdates.map((u) => ({
        feature: u.feature,
        errorCode: ErrorCode.INVALID_UPDATE_VERSION,
        errorMessage: `Invalid update version ${u.maxVersionLevel} for feature ${u.feature}. Local controller ${ctx.config.nodeId} does not support this feature.`,
      }));
      // v2 has no per-feature results: the first failure is the answer's.
      return apiVersion >= 2
        ? answer(results[0].errorCode, results[0].errorMessage)
        : answer(ErrorCode.NONE, null, results);
    },
  };
}

type ResultList = { feature: string; errorCode: number; errorMessage: string | null }[];

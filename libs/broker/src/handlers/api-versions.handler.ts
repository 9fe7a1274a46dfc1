import { ApiVersions, ErrorCode } from '@tributary/protocol';
import type { ApiHandler } from './handler';

/** Advertises exactly the APIs and versions the broker has handlers for. */
export function apiVersionsHandler(
  advertised: () => { apiKey: number; minVersion: number; maxVersion: number }[],
): ApiHandler<typeof ApiVersions> {
  return {
    api: ApiVersions,
    handle: () => ({ errorCode: ErrorCode.NONE, apiKeys: advertised(), throttleTimeMs: 0 }),
  };
}

import { defineApi } from '../schema';

/** SaslAuthenticate (key 36). Carries opaque SASL tokens; v1 adds the session lifetime for re-authentication. */
export const SaslAuthenticate = defineApi({
  apiKey: 36,
  name: 'SaslAuthenticate',
  versions: '0-2',
  flexibleVersions: '2+',
  request: {
    authBytes: 'bytes',
  },
  response: {
    errorCode: 'int16',
    errorMessage: { type: 'string', nullable: '0+' },
    authBytes: 'bytes',
    sessionLifetimeMs: { type: 'int64', versions: '1+', default: 0 },
  },
});

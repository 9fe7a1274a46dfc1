import { defineApi } from '../schema';

/**
 * UpdateFeatures (key 57, KIP-584): changes finalized feature levels. v0 has allowDowngrade,
 * v1+ upgradeType and validateOnly; v2 answers with the top-level error only.
 */
export const UpdateFeatures = defineApi({
  apiKey: 57,
  name: 'UpdateFeatures',
  versions: '0-2',
  flexibleVersions: '0+',
  request: {
    timeoutMs: { type: 'int32', default: 60000 },
    featureUpdates: {
      type: 'struct[]',
      fields: {
        feature: 'string',
        maxVersionLevel: 'int16',
        allowDowngrade: { type: 'bool', versions: '0' },
        upgradeType: { type: 'int8', versions: '1+', default: 1 },
      },
    },
    validateOnly: { type: 'bool', versions: '1+', default: false },
  },
  response: {
    throttleTimeMs: 'int32',
    errorCode: 'int16',
    errorMessage: { type: 'string', nullable: '0+' },
    results: {
      type: 'struct[]',
      versions: '0-1',
      fields: {
        feature: 'string',
        errorCode: 'int16',
        errorMessage: { type: 'string', nullable: '0+' },
      },
    },
  },
});

import { defineApi } from '../schema';

/** ApiVersions (key 18). v3 is flexible, but its response header stays v0 (see headers.ts). */
export const ApiVersions = defineApi({
  apiKey: 18,
  name: 'ApiVersions',
  versions: '0-3',
  flexibleVersions: '3+',
  request: {
    clientSoftwareName: { type: 'string', versions: '3+' },
    clientSoftwareVersion: { type: 'string', versions: '3+' },
  },
  response: {
    errorCode: 'int16',
    apiKeys: {
      type: 'struct[]',
      fields: { apiKey: 'int16', minVersion: 'int16', maxVersion: 'int16' },
    },
    throttleTimeMs: { type: 'int32', versions: '1+' },
    supportedFeatures: {
      type: 'struct[]',
      versions: '3+',
      tag: 0,
      taggedVersions: '3+',
      fields: { name: 'string', minVersion: 'int16', maxVersion: 'int16' },
    },
    finalizedFeaturesEpoch: { type: 'int64', versions: '3+', tag: 1, taggedVersions: '3+', default: -1 },
    finalizedFeatures: {
      type: 'struct[]',
      versions: '3+',
      tag: 2,
      taggedVersions: '3+',
      fields: { name: 'string', maxVersionLevel: 'int16', minVersionLevel: 'int16' },
    },
    zkMigrationReady: { type: 'bool', versions: '3+', tag: 3, taggedVersions: '3+', default: false },
  },
});

import { defineApi } from '../schema';

/** FindCoordinator (key 10). keyType 0 = group, 1 = transaction; v0-3 ask for one key, v4+ batch coordinatorKeys and answer per key. */
export const FindCoordinator = defineApi({
  apiKey: 10,
  name: 'FindCoordinator',
  versions: '0-4',
  flexibleVersions: '3+',
  request: {
    key: { type: 'string', versions: '0-3' },
    keyType: { type: 'int8', versions: '1+' },
    coordinatorKeys: { type: 'string[]', versions: '4+' },
  },
  response: {
    throttleTimeMs: { type: 'int32', versions: '1+' },
    errorCode: { type: 'int16', versions: '0-3' },
    errorMessage: { type: 'string', versions: '1-3', nullable: '1-3' },
    nodeId: { type: 'int32', versions: '0-3' },
    host: { type: 'string', versions: '0-3' },
    port: { type: 'int32', versions: '0-3' },
    coordinators: {
      type: 'struct[]',
      versions: '4+',
      fields: {
        key: 'string',
        nodeId: 'int32',
        host: 'string',
        port: 'int32',
        errorCode: 'int16',
        errorMessage: { type: 'string', nullable: '4+' },
      },
    },
  },
});

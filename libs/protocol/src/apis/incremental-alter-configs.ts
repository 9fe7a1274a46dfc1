import { defineApi } from '../schema';

/** IncrementalAlterConfigs (key 44). configOperation per key: 0 set, 1 delete, 2 append, 3 subtract. */
export const IncrementalAlterConfigs = defineApi({
  apiKey: 44,
  name: 'IncrementalAlterConfigs',
  versions: '0-1',
  flexibleVersions: '1+',
  request: {
    resources: {
      type: 'struct[]',
      fields: {
        resourceType: 'int8',
        resourceName: 'string',
        configs: {
          type: 'struct[]',
          fields: {
            name: 'string',
            configOperation: 'int8',
            value: { type: 'string', nullable: '0+' },
          },
        },
      },
    },
    validateOnly: 'bool',
  },
  response: {
    throttleTimeMs: 'int32',
    responses: {
      type: 'struct[]',
      fields: {
        errorCode: 'int16',
        errorMessage: { type: 'string', nullable: '0+' },
        resourceType: 'int8',
        resourceName: 'string',
      },
    },
  },
});

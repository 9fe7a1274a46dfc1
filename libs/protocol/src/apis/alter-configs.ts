import { defineApi } from '../schema';

/** AlterConfigs (key 33). Replaces a resource's whole set of dynamic configs (unlisted keys reset). */
export const AlterConfigs = defineApi({
  apiKey: 33,
  name: 'AlterConfigs',
  versions: '0-2',
  flexibleVersions: '2+',
  request: {
    resources: {
      type: 'struct[]',
      fields: {
        resourceType: 'int8',
        resourceName: 'string',
        configs: {
          type: 'struct[]',
          fields: { name: 'string', value: { type: 'string', nullable: '0+' } },
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

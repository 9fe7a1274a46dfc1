import { defineApi } from '../schema';

/**
 * DescribeConfigs (key 32). v0 responses carry isDefault, replaced from v1 by configSource and
 * synonyms; a null configurationKeys asks for every key.
 */
export const DescribeConfigs = defineApi({
  apiKey: 32,
  name: 'DescribeConfigs',
  versions: '0-4',
  flexibleVersions: '4+',
  request: {
    resources: {
      type: 'struct[]',
      fields: {
        resourceType: 'int8',
        resourceName: 'string',
        configurationKeys: { type: 'string[]', nullable: '0+' },
      },
    },
    includeSynonyms: { type: 'bool', versions: '1+', default: false },
    includeDocumentation: { type: 'bool', versions: '3+', default: false },
  },
  response: {
    throttleTimeMs: 'int32',
    results: {
      type: 'struct[]',
      fields: {
        errorCode: 'int16',
        errorMessage: { type: 'string', nullable: '0+' },
        resourceType: 'int8',
        resourceName: 'string',
        configs: {
          type: 'struct[]',
          fields: {
            name: 'string',
            value: { type: 'string', nullable: '0+' },
            readOnly: 'bool',
            isDefault: { type: 'bool', versions: '0' },
            configSource: { type: 'int8', versions: '1+', default: -1 },
            isSensitive: 'bool',
            synonyms: {
              type: 'struct[]',
              versions: '1+',
              fields: {
                name: 'string',
                value: { type: 'string', nullable: '0+' },
                source: 'int8',
              },
            },
            configType: { type: 'int8', versions: '3+', default: 0 },
            documentation: { type: 'string', versions: '3+', nullable: '0+' },
          },
        },
      },
    },
  },
});

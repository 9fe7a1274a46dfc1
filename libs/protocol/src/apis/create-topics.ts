import { defineApi } from '../schema';

/**
 * CreateTopics (key 19). timeoutMs and validateOnly are lower-case in Kafka's schema too; v5+
 * responses describe the created topic (tagged topicConfigErrorCode), v7 adds its topic id.
 */
export const CreateTopics = defineApi({
  apiKey: 19,
  name: 'CreateTopics',
  versions: '0-7',
  flexibleVersions: '5+',
  request: {
    topics: {
      type: 'struct[]',
      fields: {
        name: 'string',
        numPartitions: 'int32',
        replicationFactor: 'int16',
        assignments: {
          type: 'struct[]',
          fields: { partitionIndex: 'int32', brokerIds: 'int32[]' },
        },
        configs: {
          type: 'struct[]',
          fields: { name: 'string', value: { type: 'string', nullable: '0+' } },
        },
      },
    },
    timeoutMs: { type: 'int32', default: 60000 },
    validateOnly: { type: 'bool', versions: '1+', default: false },
  },
  response: {
    throttleTimeMs: { type: 'int32', versions: '2+' },
    topics: {
      type: 'struct[]',
      fields: {
        name: 'string',
        topicId: { type: 'uuid', versions: '7+' },
        errorCode: 'int16',
        errorMessage: { type: 'string', versions: '1+', nullable: '0+' },
        topicConfigErrorCode: { type: 'int16', versions: '5+', tag: 0, taggedVersions: '5+' },
        numPartitions: { type: 'int32', versions: '5+', default: -1 },
        replicationFactor: { type: 'int16', versions: '5+', default: -1 },
        configs: {
          type: 'struct[]',
          versions: '5+',
          nullable: '5+',
          fields: {
            name: 'string',
            value: { type: 'string', nullable: '5+' },
            readOnly: 'bool',
            configSource: { type: 'int8', default: -1 },
            isSensitive: 'bool',
          },
        },
      },
    },
  },
});

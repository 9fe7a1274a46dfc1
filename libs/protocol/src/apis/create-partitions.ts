import { defineApi } from '../schema';

/** CreatePartitions (key 37). assignments is nullable: null lets the broker place the new partitions. */
export const CreatePartitions = defineApi({
  apiKey: 37,
  name: 'CreatePartitions',
  versions: '0-3',
  flexibleVersions: '2+',
  request: {
    topics: {
      type: 'struct[]',
      fields: {
        name: 'string',
        count: 'int32',
        assignments: {
          type: 'struct[]',
          nullable: '0+',
          fields: { brokerIds: 'int32[]' },
        },
      },
    },
    timeoutMs: 'int32',
    validateOnly: 'bool',
  },
  response: {
    throttleTimeMs: 'int32',
    results: {
      type: 'struct[]',
      fields: {
        name: 'string',
        errorCode: 'int16',
        errorMessage: { type: 'string', nullable: '0+', default: null },
      },
    },
  },
});

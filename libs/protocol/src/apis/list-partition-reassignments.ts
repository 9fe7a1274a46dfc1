import { defineApi } from '../schema';

/** ListPartitionReassignments (key 46). Flexible from v0; null topics (the default) lists every ongoing reassignment. */
export const ListPartitionReassignments = defineApi({
  apiKey: 46,
  name: 'ListPartitionReassignments',
  versions: '0',
  flexibleVersions: '0+',
  request: {
    timeoutMs: { type: 'int32', default: 60000 },
    topics: {
      type: 'struct[]',
      nullable: '0+',
      default: null,
      fields: { name: 'string', partitionIndexes: 'int32[]' },
    },
  },
  response: {
    throttleTimeMs: 'int32',
    errorCode: 'int16',
    errorMessage: { type: 'string', nullable: '0+' },
    topics: {
      type: 'struct[]',
      fields: {
        name: 'string',
        partitions: {
          type: 'struct[]',
          fields: {
            partitionIndex: 'int32',
            replicas: 'int32[]',
            addingReplicas: 'int32[]',
            removingReplicas: 'int32[]',
          },
        },
      },
    },
  },
});

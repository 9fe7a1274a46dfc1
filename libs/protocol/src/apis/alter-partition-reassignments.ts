import { defineApi } from '../schema';

/** AlterPartitionReassignments (key 45). Flexible from v0; null replicas cancel a pending reassignment of that partition. */
export const AlterPartitionReassignments = defineApi({
  apiKey: 45,
  name: 'AlterPartitionReassignments',
  versions: '0',
  flexibleVersions: '0+',
  request: {
    timeoutMs: { type: 'int32', default: 60000 },
    topics: {
      type: 'struct[]',
      fields: {
        name: 'string',
        partitions: {
          type: 'struct[]',
          fields: {
            partitionIndex: 'int32',
            replicas: { type: 'int32[]', nullable: '0+', default: null },
          },
        },
      },
    },
  },
  response: {
    throttleTimeMs: 'int32',
    errorCode: 'int16',
    errorMessage: { type: 'string', nullable: '0+' },
    responses: {
      type: 'struct[]',
      fields: {
        name: 'string',
        partitions: {
          type: 'struct[]',
          fields: {
            partitionIndex: 'int32',
            errorCode: 'int16',
            errorMessage: { type: 'string', nullable: '0+' },
          },
        },
      },
    },
  },
});

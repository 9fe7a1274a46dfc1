import { defineApi } from '../schema';

/** AlterReplicaLogDirs (key 34): moves replicas between a broker's log directories. */
export const AlterReplicaLogDirs = defineApi({
  apiKey: 34,
  name: 'AlterReplicaLogDirs',
  versions: '0-2',
  flexibleVersions: '2+',
  request: {
    dirs: {
      type: 'struct[]',
      fields: {
        path: 'string',
        topics: {
          type: 'struct[]',
          fields: { name: 'string', partitions: 'int32[]' },
        },
      },
    },
  },
  response: {
    throttleTimeMs: 'int32',
    results: {
      type: 'struct[]',
      fields: {
        topicName: 'string',
        partitions: {
          type: 'struct[]',
          fields: { partitionIndex: 'int32', errorCode: 'int16' },
        },
      },
    },
  },
});

import { defineApi } from '../schema';

/**
 * Metadata (key 3). v1+ tells a null topic array (all topics) from an empty one (none); v10+
 * adds topic ids (and request names may be null); v12 responses may hold a null topic name.
 */
export const Metadata = defineApi({
  apiKey: 3,
  name: 'Metadata',
  versions: '0-12',
  flexibleVersions: '9+',
  request: {
    topics: {
      type: 'struct[]',
      nullable: '1+',
      fields: {
        topicId: { type: 'uuid', versions: '10+' },
        name: { type: 'string', nullable: '10+' },
      },
    },
    allowAutoTopicCreation: { type: 'bool', versions: '4+', default: true },
    includeClusterAuthorizedOperations: { type: 'bool', versions: '8-10' },
    includeTopicAuthorizedOperations: { type: 'bool', versions: '8+' },
  },
  response: {
    throttleTimeMs: { type: 'int32', versions: '3+' },
    brokers: {
      type: 'struct[]',
      fields: {
        nodeId: 'int32',
        host: 'string',
        port: 'int32',
        rack: { type: 'string', versions: '1+', nullable: '1+', default: null },
      },
    },
    clusterId: { type: 'string', versions: '2+', nullable: '2+', default: null },
    controllerId: { type: 'int32', versions: '1+', default: -1 },
    topics: {
      type: 'struct[]',
      fields: {
        errorCode: 'int16',
        name: { type: 'string', nullable: '12+' },
        topicId: { type: 'uuid', versions: '10+' },
        isInternal: { type: 'bool', versions: '1+', default: false },
        partitions: {
          type: 'struct[]',
          fields: {
            errorCode: 'int16',
            partitionIndex: 'int32',
            leaderId: 'int32',
            leaderEpoch: { type: 'int32', versions: '7+', default: -1 },
            replicaNodes: 'int32[]',
            isrNodes: 'int32[]',
            offlineReplicas: { type: 'int32[]', versions: '5+' },
          },
        },
        topicAuthorizedOperations: { type: 'int32', versions: '8+', default: -2147483648 },
      },
    },
    clusterAuthorizedOperations: { type: 'int32', versions: '8-10', default: -2147483648 },
  },
});

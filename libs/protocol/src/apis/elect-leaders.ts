import { defineApi } from '../schema';

/** ElectLeaders (key 43). Null topicPartitions means every partition; electionType (v1+) 0 = preferred, 1 = unclean; v1+ add a top-level errorCode. */
export const ElectLeaders = defineApi({
  apiKey: 43,
  name: 'ElectLeaders',
  versions: '0-2',
  flexibleVersions: '2+',
  request: {
    electionType: { type: 'int8', versions: '1+' },
    topicPartitions: {
      type: 'struct[]',
      nullable: '0+',
      fields: { topic: 'string', partitions: 'int32[]' },
    },
    timeoutMs: { type: 'int32', default: 60000 },
  },
  response: {
    throttleTimeMs: 'int32',
    errorCode: { type: 'int16', versions: '1+' },
    replicaElectionResults: {
      type: 'struct[]',
      fields: {
        topic: 'string',
        partitionResult: {
          type: 'struct[]',
          fields: {
            partitionId: 'int32',
            errorCode: 'int16',
            errorMessage: { type: 'string', nullable: '0+' },
          },
        },
      },
    },
  },
});

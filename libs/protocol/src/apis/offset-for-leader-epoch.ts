import { defineApi } from '../schema';

/** OffsetForLeaderEpoch (key 23). Finds the end offset of a leader epoch for truncation; replicaId (v3+) is -2 for debug consumers, -1 for consumers, a broker id for followers. */
export const OffsetForLeaderEpoch = defineApi({
  apiKey: 23,
  name: 'OffsetForLeaderEpoch',
  versions: '0-4',
  flexibleVersions: '4+',
  request: {
    replicaId: { type: 'int32', versions: '3+', default: -2 },
    topics: {
      type: 'struct[]',
      fields: {
        topic: 'string',
        partitions: {
          type: 'struct[]',
          fields: {
            partition: 'int32',
            currentLeaderEpoch: { type: 'int32', versions: '2+', default: -1 },
            leaderEpoch: 'int32',
          },
        },
      },
    },
  },
  response: {
    throttleTimeMs: { type: 'int32', versions: '2+' },
    topics: {
      type: 'struct[]',
      fields: {
        topic: 'string',
        partitions: {
          type: 'struct[]',
          fields: {
            errorCode: 'int16',
            partition: 'int32',
            leaderEpoch: { type: 'int32', versions: '1+', default: -1 },
            endOffset: { type: 'int64', default: -1 },
          },
        },
      },
    },
  },
});

import { defineApi } from '../schema';

/**
 * ListOffsets (key 2). v0 is the old form: the request asks for up to maxNumOffsets offsets and
 * the response answers with an oldStyleOffsets array instead of one timestamp and offset.
 */
export const ListOffsets = defineApi({
  apiKey: 2,
  name: 'ListOffsets',
  versions: '0-7',
  flexibleVersions: '6+',
  request: {
    replicaId: 'int32',
    isolationLevel: { type: 'int8', versions: '2+' },
    topics: {
      type: 'struct[]',
      fields: {
        name: 'string',
        partitions: {
          type: 'struct[]',
          fields: {
            partitionIndex: 'int32',
            currentLeaderEpoch: { type: 'int32', versions: '4+', default: -1 },
            timestamp: 'int64',
            maxNumOffsets: { type: 'int32', versions: '0', default: 1 },
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
        name: 'string',
        partitions: {
          type: 'struct[]',
          fields: {
            partitionIndex: 'int32',
            errorCode: 'int16',
            oldStyleOffsets: { type: 'int64[]', versions: '0' },
            timestamp: { type: 'int64', versions: '1+', default: -1 },
            offset: { type: 'int64', versions: '1+', default: -1 },
            leaderEpoch: { type: 'int32', versions: '4+', default: -1 },
          },
        },
      },
    },
  },
});

import { defineApi } from '../schema';

/** OffsetCommit (key 8). commitTimestamp exists only in v1 and retentionTimeMs only in v2-4 (-1 = broker default); v6+ carry the leader epoch. */
export const OffsetCommit = defineApi({
  apiKey: 8,
  name: 'OffsetCommit',
  versions: '0-8',
  flexibleVersions: '8+',
  request: {
    groupId: 'string',
    generationIdOrMemberEpoch: { type: 'int32', versions: '1+', default: -1 },
    memberId: { type: 'string', versions: '1+' },
    groupInstanceId: { type: 'string', versions: '7+', nullable: '7+', default: null },
    retentionTimeMs: { type: 'int64', versions: '2-4', default: -1 },
    topics: {
      type: 'struct[]',
      fields: {
        name: 'string',
        partitions: {
          type: 'struct[]',
          fields: {
            partitionIndex: 'int32',
            committedOffset: 'int64',
            committedLeaderEpoch: { type: 'int32', versions: '6+', default: -1 },
            commitTimestamp: { type: 'int64', versions: '1', default: -1 },
            committedMetadata: { type: 'string', nullable: '0+' },
          },
        },
      },
    },
  },
  response: {
    throttleTimeMs: { type: 'int32', versions: '3+' },
    topics: {
      type: 'struct[]',
      fields: {
        name: 'string',
        partitions: {
          type: 'struct[]',
          fields: { partitionIndex: 'int32', errorCode: 'int16' },
        },
      },
    },
  },
});

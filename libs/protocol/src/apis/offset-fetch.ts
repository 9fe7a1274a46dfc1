import { defineApi } from '../schema';

/** OffsetFetch (key 9). v2+ a null topics array means every topic and add a top-level errorCode; v8+ batch groups (top-level fields move under groups). */
export const OffsetFetch = defineApi({
  apiKey: 9,
  name: 'OffsetFetch',
  versions: '0-8',
  flexibleVersions: '6+',
  request: {
    groupId: { type: 'string', versions: '0-7' },
    topics: {
      type: 'struct[]',
      versions: '0-7',
      nullable: '2-7',
      fields: { name: 'string', partitionIndexes: 'int32[]' },
    },
    groups: {
      type: 'struct[]',
      versions: '8+',
      fields: {
        groupId: 'string',
        topics: {
          type: 'struct[]',
          nullable: '8+',
          fields: { name: 'string', partitionIndexes: 'int32[]' },
        },
      },
    },
    requireStable: { type: 'bool', versions: '7+' },
  },
  response: {
    throttleTimeMs: { type: 'int32', versions: '3+' },
    topics: {
      type: 'struct[]',
      versions: '0-7',
      fields: {
        name: 'string',
        partitions: {
          type: 'struct[]',
          fields: {
            partitionIndex: 'int32',
            committedOffset: 'int64',
            committedLeaderEpoch: { type: 'int32', versions: '5-7', default: -1 },
            metadata: { type: 'string', nullable: '0-7' },
            errorCode: 'int16',
          },
        },
      },
    },
    errorCode: { type: 'int16', versions: '2-7' },
    groups: {
      type: 'struct[]',
      versions: '8+',
      fields: {
        groupId: 'string',
        topics: {
          type: 'struct[]',
          fields: {
            name: 'string',
            partitions: {
              type: 'struct[]',
              fields: {
                partitionIndex: 'int32',
                committedOffset: 'int64',
                committedLeaderEpoch: { type: 'int32', default: -1 },
                metadata: { type: 'string', nullable: '8+' },
                errorCode: 'int16',
              },
            },
          },
        },
        errorCode: 'int16',
      },
    },
  },
});

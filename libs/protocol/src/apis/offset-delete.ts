import { defineApi } from '../schema';

/** OffsetDelete (key 47). Never flexible; deletes a group's committed offsets for partitions it no longer consumes. */
export const OffsetDelete = defineApi({
  apiKey: 47,
  name: 'OffsetDelete',
  versions: '0',
  flexibleVersions: 'none',
  request: {
    groupId: 'string',
    topics: {
      type: 'struct[]',
      fields: {
        name: 'string',
        partitions: { type: 'struct[]', fields: { partitionIndex: 'int32' } },
      },
    },
  },
  response: {
    errorCode: 'int16',
    throttleTimeMs: 'int32',
    topics: {
      type: 'struct[]',
      fields: {
        name: 'string',
        partitions: { type: 'struct[]', fields: { partitionIndex: 'int32', errorCode: 'int16' } },
      },
    },
  },
});

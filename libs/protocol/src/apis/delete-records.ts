import { defineApi } from '../schema';

/** DeleteRecords (key 21). Moves each partition's log start offset up to the given offset (-1: high watermark). */
export const DeleteRecords = defineApi({
  apiKey: 21,
  name: 'DeleteRecords',
  versions: '0-2',
  flexibleVersions: '2+',
  request: {
    topics: {
      type: 'struct[]',
      fields: {
        name: 'string',
        partitions: {
          type: 'struct[]',
          fields: { partitionIndex: 'int32', offset: 'int64' },
        },
      },
    },
    timeoutMs: 'int32',
  },
  response: {
    throttleTimeMs: 'int32',
    topics: {
      type: 'struct[]',
      fields: {
        name: 'string',
        partitions: {
          type: 'struct[]',
          fields: { partitionIndex: 'int32', lowWatermark: 'int64', errorCode: 'int16' },
        },
      },
    },
  },
});

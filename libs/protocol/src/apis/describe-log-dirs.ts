import { defineApi } from '../schema';

/** DescribeLogDirs (key 35). Null topics means every topic; v3+ add a top-level errorCode, v4+ the volume's total and usable bytes (-1 = unknown). */
export const DescribeLogDirs = defineApi({
  apiKey: 35,
  name: 'DescribeLogDirs',
  versions: '0-4',
  flexibleVersions: '2+',
  request: {
    topics: {
      type: 'struct[]',
      nullable: '0+',
      fields: { topic: 'string', partitions: 'int32[]' },
    },
  },
  response: {
    throttleTimeMs: 'int32',
    errorCode: { type: 'int16', versions: '3+' },
    results: {
      type: 'struct[]',
      fields: {
        errorCode: 'int16',
        logDir: 'string',
        topics: {
          type: 'struct[]',
          fields: {
            name: 'string',
            partitions: {
              type: 'struct[]',
              fields: {
                partitionIndex: 'int32',
                partitionSize: 'int64',
                offsetLag: 'int64',
                isFutureKey: 'bool',
              },
            },
          },
        },
        totalBytes: { type: 'int64', versions: '4+', default: -1 },
        usableBytes: { type: 'int64', versions: '4+', default: -1 },
      },
    },
  },
});

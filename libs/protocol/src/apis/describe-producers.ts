import { defineApi } from '../schema';

/** DescribeProducers (key 61, KIP-664): the idempotent and transactional producers a partition leader knows. */
export const DescribeProducers = defineApi({
  apiKey: 61,
  name: 'DescribeProducers',
  versions: '0',
  flexibleVersions: '0+',
  request: {
    topics: {
      type: 'struct[]',
      fields: { name: 'string', partitionIndexes: 'int32[]' },
    },
  },
  response: {
    throttleTimeMs: 'int32',
    topics: {
      type: 'struct[]',
      fields: {
        name: 'string',
        partitions: {
          type: 'struct[]',
          fields: {
            partitionIndex: 'int32',
            errorCode: 'int16',
            errorMessage: { type: 'string', nullable: '0+', default: null },
            activeProducers: {
              type: 'struct[]',
              fields: {
                producerId: 'int64',
                producerEpoch: 'int32',
                lastSequence: { type: 'int32', default: -1 },
                lastTimestamp: { type: 'int64', default: -1 },
                coordinatorEpoch: 'int32',
                currentTxnStartOffset: { type: 'int64', default: -1 },
              },
            },
          },
        },
      },
    },
  },
});

import { defineApi } from '../schema';

/**
 * WriteTxnMarkers (key 27): a transaction coordinator asks partition leaders to append the
 * COMMIT or ABORT marker of a producer's transaction (transactionResult true = COMMIT), one
 * control batch per partition, fenced by the coordinator epoch. Inter-broker only.
 */
export const WriteTxnMarkers = defineApi({
  apiKey: 27,
  name: 'WriteTxnMarkers',
  versions: '0-1',
  flexibleVersions: '1+',
  request: {
    markers: {
      type: 'struct[]',
      fields: {
        producerId: 'int64',
        producerEpoch: 'int16',
        transactionResult: 'bool',
        topics: {
          type: 'struct[]',
          fields: { name: 'string', partitionIndexes: 'int32[]' },
        },
        coordinatorEpoch: 'int32',
      },
    },
  },
  response: {
    markers: {
      type: 'struct[]',
      fields: {
        producerId: 'int64',
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
    },
  },
});

import { defineApi } from '../schema';

/** DescribeTransactions (key 65, KIP-664): the state of transactional ids at their coordinator. */
export const DescribeTransactions = defineApi({
  apiKey: 65,
  name: 'DescribeTransactions',
  versions: '0',
  flexibleVersions: '0+',
  request: {
    transactionalIds: 'string[]',
  },
  response: {
    throttleTimeMs: 'int32',
    transactionStates: {
      type: 'struct[]',
      fields: {
        errorCode: 'int16',
        transactionalId: 'string',
        transactionState: 'string',
        transactionTimeoutMs: 'int32',
        transactionStartTimeMs: 'int64',
        producerId: 'int64',
        producerEpoch: 'int16',
        topics: { type: 'struct[]', fields: { topic: 'string', partitions: 'int32[]' } },
      },
    },
  },
});

import { defineApi } from '../schema';

const topicFields = { name: 'string', partitions: 'int32[]' } as const;
const topicResultFields = {
  name: 'string',
  resultsByPartition: {
    type: 'struct[]',
    fields: { partitionIndex: 'int32', partitionErrorCode: 'int16' },
  },
} as const;

/**
 * AddPartitionsToTxn (key 24). v0-3 are a producer's: one transaction, the partitions it is
 * about to write. v4+ are brokers' (KIP-890): many transactions, and verifyOnly asks whether
 * the partitions are already in the transaction rather than adding them.
 */
export const AddPartitionsToTxn = defineApi({
  apiKey: 24,
  name: 'AddPartitionsToTxn',
  versions: '0-4',
  flexibleVersions: '3+',
  request: {
    transactions: {
      type: 'struct[]',
      versions: '4+',
      fields: {
        transactionalId: 'string',
        producerId: 'int64',
        producerEpoch: 'int16',
        verifyOnly: { type: 'bool', default: false },
        topics: { type: 'struct[]', fields: topicFields },
      },
    },
    v3AndBelowTransactionalId: { type: 'string', versions: '0-3' },
    v3AndBelowProducerId: { type: 'int64', versions: '0-3' },
    v3AndBelowProducerEpoch: { type: 'int16', versions: '0-3' },
    v3AndBelowTopics: { type: 'struct[]', versions: '0-3', fields: topicFields },
  },
  response: {
    throttleTimeMs: 'int32',
    errorCode: { type: 'int16', versions: '4+' },
    resultsByTransaction: {
      type: 'struct[]',
      versions: '4+',
      fields: {
        transactionalId: 'string',
        topicResults: { type: 'struct[]', fields: topicResultFields },
      },
    },
    resultsByTopicV3AndBelow: { type: 'struct[]', versions: '0-3', fields: topicResultFields },
  },
});

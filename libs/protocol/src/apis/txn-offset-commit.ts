import { defineApi } from '../schema';

/**
 * TxnOffsetCommit (key 28): a transactional producer commits a group's offsets inside its
 * transaction; they become the group's offsets when the transaction commits. v3+ carry the
 * consumer's generation, member id and instance id (KIP-447) so a zombie is fenced.
 */
export const TxnOffsetCommit = defineApi({
  apiKey: 28,
  name: 'TxnOffsetCommit',
  versions: '0-3',
  flexibleVersions: '3+',
  request: {
    transactionalId: 'string',
    groupId: 'string',
    producerId: 'int64',
    producerEpoch: 'int16',
    generationId: { type: 'int32', versions: '3+', default: -1 },
    memberId: { type: 'string', versions: '3+', default: '' },
    groupInstanceId: { type: 'string', versions: '3+', nullable: '3+', default: null },
    topics: {
      type: 'struct[]',
      fields: {
        name: 'string',
        partitions: {
          type: 'struct[]',
          fields: {
            partitionIndex: 'int32',
            committedOffset: 'int64',
            committedLeaderEpoch: { type: 'int32', versions: '2+', default: -1 },
            committedMetadata: { type: 'string', nullable: '0+' },
          },
        },
      },
    },
  },
  response: {
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

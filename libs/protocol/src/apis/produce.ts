import { defineApi } from '../schema';

/**
 * Produce (key 0). v0-v2 carry legacy message sets (magic 0 and 1), which the broker
 * up-converts to the record batches v2 it stores; v3+ carry record batches v2.
 */
export const Produce = defineApi({
  apiKey: 0,
  name: 'Produce',
  versions: '0-9',
  flexibleVersions: '9+',
  request: {
    transactionalId: { type: 'string', versions: '3+', nullable: '3+', default: null },
    acks: 'int16',
    timeoutMs: 'int32',
    topicData: {
      type: 'struct[]',
      fields: {
        name: 'string',
        partitionData: {
          type: 'struct[]',
          fields: {
            index: 'int32',
            records: { type: 'records', nullable: '0+' },
          },
        },
      },
    },
  },
  response: {
    responses: {
      type: 'struct[]',
      fields: {
        name: 'string',
        partitionResponses: {
          type: 'struct[]',
          fields: {
            index: 'int32',
            errorCode: 'int16',
            baseOffset: 'int64',
            logAppendTimeMs: { type: 'int64', versions: '2+', default: -1 },
            logStartOffset: { type: 'int64', versions: '5+', default: -1 },
            recordErrors: {
              type: 'struct[]',
              versions: '8+',
              fields: {
                batchIndex: 'int32',
                batchIndexErrorMessage: { type: 'string', nullable: '8+', default: null },
              },
            },
            errorMessage: { type: 'string', versions: '8+', nullable: '8+', default: null },
          },
        },
      },
    },
    throttleTimeMs: { type: 'int32', versions: '1+', default: 0 },
  },
});

import { defineApi } from '../schema';

/** InitProducerId (key 22). A null transactionalId asks for an idempotent producer id; v3+ may resume a known producer id and epoch (-1 = none). */
export const InitProducerId = defineApi({
  apiKey: 22,
  name: 'InitProducerId',
  versions: '0-4',
  flexibleVersions: '2+',
  request: {
    transactionalId: { type: 'string', nullable: '0+' },
    transactionTimeoutMs: 'int32',
    producerId: { type: 'int64', versions: '3+', default: -1 },
    producerEpoch: { type: 'int16', versions: '3+', default: -1 },
  },
  response: {
    throttleTimeMs: 'int32',
    errorCode: 'int16',
    producerId: { type: 'int64', default: -1 },
    producerEpoch: 'int16',
  },
});

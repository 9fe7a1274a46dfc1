import { defineApi } from '../schema';

/** ListTransactions (key 66, KIP-664): a coordinator's transactional ids, filtered by state, producer id and (v1+) age. */
export const ListTransactions = defineApi({
  apiKey: 66,
  name: 'ListTransactions',
  versions: '0-1',
  flexibleVersions: '0+',
  request: {
    stateFilters: 'string[]',
    producerIdFilters: 'int64[]',
    durationFilter: { type: 'int64', versions: '1+', default: -1 },
  },
  response: {
    throttleTimeMs: 'int32',
    errorCode: 'int16',
    unknownStateFilters: 'string[]',
    transactionStates: {
      type: 'struct[]',
      fields: { transactionalId: 'string', producerId: 'int64', transactionState: 'string' },
    },
  },
});

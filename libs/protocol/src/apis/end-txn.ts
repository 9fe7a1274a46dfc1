import { defineApi } from '../schema';

/** EndTxn (key 26): commit (committed true) or abort a producer's transaction. */
export const EndTxn = defineApi({
  apiKey: 26,
  name: 'EndTxn',
  versions: '0-3',
  flexibleVersions: '3+',
  request: {
    transactionalId: 'string',
    producerId: 'int64',
    producerEpoch: 'int16',
    committed: 'bool',
  },
  response: {
    throttleTimeMs: 'int32',
    errorCode: 'int16',
  },
});

import { defineApi } from '../schema';

/** AddOffsetsToTxn (key 25): a producer will commit a group's offsets in its transaction (its __consumer_offsets partition joins it). */
export const AddOffsetsToTxn = defineApi({
  apiKey: 25,
  name: 'AddOffsetsToTxn',
  versions: '0-3',
  flexibleVersions: '3+',
  request: {
    transactionalId: 'string',
    producerId: 'int64',
    producerEpoch: 'int16',
    groupId: 'string',
  },
  response: {
    throttleTimeMs: 'int32',
    errorCode: 'int16',
  },
});

import { defineApi } from '../schema';

/** Heartbeat (key 12). Keeps a member in its generation; REBALANCE_IN_PROGRESS tells it to rejoin. */
export const Heartbeat = defineApi({
  apiKey: 12,
  name: 'Heartbeat',
  versions: '0-4',
  flexibleVersions: '4+',
  request: {
    groupId: 'string',
    generationId: 'int32',
    memberId: 'string',
    groupInstanceId: { type: 'string', versions: '3+', nullable: '3+', default: null },
  },
  response: {
    throttleTimeMs: { type: 'int32', versions: '1+' },
    errorCode: 'int16',
  },
});

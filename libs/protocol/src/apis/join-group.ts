import { defineApi } from '../schema';

/** JoinGroup (key 11). v4+ members join twice (MEMBER_ID_REQUIRED hands out the id); protocols carry opaque metadata bytes; v7+ protocolName may be null. */
export const JoinGroup = defineApi({
  apiKey: 11,
  name: 'JoinGroup',
  versions: '0-9',
  flexibleVersions: '6+',
  request: {
    groupId: 'string',
    sessionTimeoutMs: 'int32',
    rebalanceTimeoutMs: { type: 'int32', versions: '1+', default: -1 },
    memberId: 'string',
    groupInstanceId: { type: 'string', versions: '5+', nullable: '5+', default: null },
    protocolType: 'string',
    protocols: {
      type: 'struct[]',
      fields: { name: 'string', metadata: 'bytes' },
    },
    reason: { type: 'string', versions: '8+', nullable: '8+', default: null },
  },
  response: {
    throttleTimeMs: { type: 'int32', versions: '2+' },
    errorCode: 'int16',
    generationId: { type: 'int32', default: -1 },
    protocolType: { type: 'string', versions: '7+', nullable: '7+', default: null },
    protocolName: { type: 'string', nullable: '7+' },
    leader: 'string',
    skipAssignment: { type: 'bool', versions: '9+' },
    memberId: 'string',
    members: {
      type: 'struct[]',
      fields: {
        memberId: 'string',
        groupInstanceId: { type: 'string', versions: '5+', nullable: '5+', default: null },
        metadata: 'bytes',
      },
    },
  },
});

import { defineApi } from '../schema';

/** LeaveGroup (key 13). v0-2 name one memberId; v3+ batch members (by member or group instance id) with per-member errors. */
export const LeaveGroup = defineApi({
  apiKey: 13,
  name: 'LeaveGroup',
  versions: '0-5',
  flexibleVersions: '4+',
  request: {
    groupId: 'string',
    memberId: { type: 'string', versions: '0-2' },
    members: {
      type: 'struct[]',
      versions: '3+',
      fields: {
        memberId: 'string',
        groupInstanceId: { type: 'string', nullable: '3+', default: null },
        reason: { type: 'string', versions: '5+', nullable: '5+', default: null },
      },
    },
  },
  response: {
    throttleTimeMs: { type: 'int32', versions: '1+' },
    errorCode: 'int16',
    members: {
      type: 'struct[]',
      versions: '3+',
      fields: {
        memberId: 'string',
        groupInstanceId: { type: 'string', nullable: '3+' },
        errorCode: 'int16',
      },
    },
  },
});

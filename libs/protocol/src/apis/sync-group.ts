import { defineApi } from '../schema';

/** SyncGroup (key 14). The leader sends every member's assignment bytes, the others none; v5+ both sides name the protocol type and name. */
export const SyncGroup = defineApi({
  apiKey: 14,
  name: 'SyncGroup',
  versions: '0-5',
  flexibleVersions: '4+',
  request: {
    groupId: 'string',
    generationId: 'int32',
    memberId: 'string',
    groupInstanceId: { type: 'string', versions: '3+', nullable: '3+', default: null },
    protocolType: { type: 'string', versions: '5+', nullable: '5+', default: null },
    protocolName: { type: 'string', versions: '5+', nullable: '5+', default: null },
    assignments: {
      type: 'struct[]',
      fields: { memberId: 'string', assignment: 'bytes' },
    },
  },
  response: {
    throttleTimeMs: { type: 'int32', versions: '1+' },
    errorCode: 'int16',
    protocolType: { type: 'string', versions: '5+', nullable: '5+', default: null },
    protocolName: { type: 'string', versions: '5+', nullable: '5+', default: null },
    assignment: 'bytes',
  },
});

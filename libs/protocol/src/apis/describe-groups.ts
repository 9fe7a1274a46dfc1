import { defineApi } from '../schema';

/** DescribeGroups (key 15). Members carry opaque metadata and assignment bytes; authorizedOperations is -2^31 unless asked for (v3+). */
export const DescribeGroups = defineApi({
  apiKey: 15,
  name: 'DescribeGroups',
  versions: '0-5',
  flexibleVersions: '5+',
  request: {
    groups: 'string[]',
    includeAuthorizedOperations: { type: 'bool', versions: '3+' },
  },
  response: {
    throttleTimeMs: { type: 'int32', versions: '1+' },
    groups: {
      type: 'struct[]',
      fields: {
        errorCode: 'int16',
        groupId: 'string',
        groupState: 'string',
        protocolType: 'string',
        protocolData: 'string',
        members: {
          type: 'struct[]',
          fields: {
            memberId: 'string',
            groupInstanceId: { type: 'string', versions: '4+', nullable: '4+', default: null },
            clientId: 'string',
            clientHost: 'string',
            memberMetadata: 'bytes',
            memberAssignment: 'bytes',
          },
        },
        authorizedOperations: { type: 'int32', versions: '3+', default: -2147483648 },
      },
    },
  },
});

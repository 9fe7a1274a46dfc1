import { defineApi } from '../schema';

/** CreateAcls (key 30). One result per creation, in order; resourcePatternType (v1+) defaults to 3 = LITERAL. */
export const CreateAcls = defineApi({
  apiKey: 30,
  name: 'CreateAcls',
  versions: '0-3',
  flexibleVersions: '2+',
  request: {
    creations: {
      type: 'struct[]',
      fields: {
        resourceType: 'int8',
        resourceName: 'string',
        resourcePatternType: { type: 'int8', versions: '1+', default: 3 },
        principal: 'string',
        host: 'string',
        operation: 'int8',
        permissionType: 'int8',
      },
    },
  },
  response: {
    throttleTimeMs: 'int32',
    results: {
      type: 'struct[]',
      fields: { errorCode: 'int16', errorMessage: { type: 'string', nullable: '0+' } },
    },
  },
});

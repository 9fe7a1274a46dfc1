import { defineApi } from '../schema';

/** DeleteAcls (key 31). One filter result per filter, listing the ACLs it matched; pattern types (v1+) default to 3 = LITERAL. */
export const DeleteAcls = defineApi({
  apiKey: 31,
  name: 'DeleteAcls',
  versions: '0-3',
  flexibleVersions: '2+',
  request: {
    filters: {
      type: 'struct[]',
      fields: {
        resourceTypeFilter: 'int8',
        resourceNameFilter: { type: 'string', nullable: '0+' },
        patternTypeFilter: { type: 'int8', versions: '1+', default: 3 },
        principalFilter: { type: 'string', nullable: '0+' },
        hostFilter: { type: 'string', nullable: '0+' },
        operation: 'int8',
        permissionType: 'int8',
      },
    },
  },
  response: {
    throttleTimeMs: 'int32',
    filterResults: {
      type: 'struct[]',
      fields: {
        errorCode: 'int16',
        errorMessage: { type: 'string', nullable: '0+' },
        matchingAcls: {
          type: 'struct[]',
          fields: {
            errorCode: 'int16',
            errorMessage: { type: 'string', nullable: '0+' },
            resourceType: 'int8',
            resourceName: 'string',
            patternType: { type: 'int8', versions: '1+', default: 3 },
            principal: 'string',
            host: 'string',
            operation: 'int8',
            permissionType: 'int8',
          },
        },
      },
    },
  },
});

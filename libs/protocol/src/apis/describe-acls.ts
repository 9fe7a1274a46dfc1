import { defineApi } from '../schema';

/** DescribeAcls (key 29). A null name, principal or host filter matches any; patternTypeFilter (v1+) defaults to 3 = LITERAL. */
export const DescribeAcls = defineApi({
  apiKey: 29,
  name: 'DescribeAcls',
  versions: '0-3',
  flexibleVersions: '2+',
  request: {
    resourceTypeFilter: 'int8',
    resourceNameFilter: { type: 'string', nullable: '0+' },
    patternTypeFilter: { type: 'int8', versions: '1+', default: 3 },
    principalFilter: { type: 'string', nullable: '0+' },
    hostFilter: { type: 'string', nullable: '0+' },
    operation: 'int8',
    permissionType: 'int8',
  },
  response: {
    throttleTimeMs: 'int32',
    errorCode: 'int16',
    errorMessage: { type: 'string', nullable: '0+' },
    resources: {
      type: 'struct[]',
      fields: {
        resourceType: 'int8',
        resourceName: 'string',
        patternType: { type: 'int8', versions: '1+', default: 3 },
        acls: {
          type: 'struct[]',
          fields: { principal: 'string', host: 'string', operation: 'int8', permissionType: 'int8' },
        },
      },
    },
  },
});

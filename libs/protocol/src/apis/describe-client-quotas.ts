import { defineApi } from '../schema';

/**
 * DescribeClientQuotas (key 48). Flexible from v1. Each filter component names an entity
 * type (user, client-id) and how to match it: 0 exact name, 1 the default (null name),
 * 2 any name given; strict leaves out entities with types the filter does not name.
 */
export const DescribeClientQuotas = defineApi({
  apiKey: 48,
  name: 'DescribeClientQuotas',
  versions: '0-1',
  flexibleVersions: '1+',
  request: {
    components: {
      type: 'struct[]',
      fields: {
        entityType: 'string',
        matchType: 'int8',
        match: { type: 'string', nullable: '0+' },
      },
    },
    strict: 'bool',
  },
  response: {
    throttleTimeMs: 'int32',
    errorCode: 'int16',
    errorMessage: { type: 'string', nullable: '0+' },
    entries: {
      type: 'struct[]',
      nullable: '0+',
      fields: {
        entity: {
          type: 'struct[]',
          fields: { entityType: 'string', entityName: { type: 'string', nullable: '0+' } },
        },
        values: { type: 'struct[]', fields: { key: 'string', value: 'float64' } },
      },
    },
  },
});

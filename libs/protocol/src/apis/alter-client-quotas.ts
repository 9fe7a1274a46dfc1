import { defineApi } from '../schema';

/**
 * AlterClientQuotas (key 49). Flexible from v1. Each entry names an entity (user and/or
 * client-id, a null name being the default) and sets or removes quota keys; validateOnly
 * checks without applying.
 */
export const AlterClientQuotas = defineApi({
  apiKey: 49,
  name: 'AlterClientQuotas',
  versions: '0-1',
  flexibleVersions: '1+',
  request: {
    entries: {
      type: 'struct[]',
      fields: {
        entity: {
          type: 'struct[]',
          fields: { entityType: 'string', entityName: { type: 'string', nullable: '0+' } },
        },
        ops: { type: 'struct[]', fields: { key: 'string', value: 'float64', remove: 'bool' } },
      },
    },
    validateOnly: 'bool',
  },
  response: {
    throttleTimeMs: 'int32',
    entries: {
      type: 'struct[]',
      fields: {
        errorCode: 'int16',
        errorMessage: { type: 'string', nullable: '0+' },
        entity: {
          type: 'struct[]',
          fields: { entityType: 'string', entityName: { type: 'string', nullable: '0+' } },
        },
      },
    },
  },
});

import { defineApi } from '../schema';

/** DeleteGroups (key 42). Deletes empty groups and their committed offsets; the request field is Kafka's "groupsNames". */
export const DeleteGroups = defineApi({
  apiKey: 42,
  name: 'DeleteGroups',
  versions: '0-2',
  flexibleVersions: '2+',
  request: {
    groupsNames: 'string[]',
  },
  response: {
    throttleTimeMs: 'int32',
    results: {
      type: 'struct[]',
      fields: { groupId: 'string', errorCode: 'int16' },
    },
  },
});

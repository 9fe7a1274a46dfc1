import { defineApi } from '../schema';

/** ListGroups (key 16). Answered per broker, for the groups it coordinates; v4+ filter by state and report each group's state. */
export const ListGroups = defineApi({
  apiKey: 16,
  name: 'ListGroups',
  versions: '0-4',
  flexibleVersions: '3+',
  request: {
    statesFilter: { type: 'string[]', versions: '4+' },
  },
  response: {
    throttleTimeMs: { type: 'int32', versions: '1+' },
    errorCode: 'int16',
    groups: {
      type: 'struct[]',
      fields: {
        groupId: 'string',
        protocolType: 'string',
        groupState: { type: 'string', versions: '4+' },
      },
    },
  },
});

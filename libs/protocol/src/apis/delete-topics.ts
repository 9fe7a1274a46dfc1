import { defineApi } from '../schema';

/** DeleteTopics (key 20). v0-5 send topicNames; v6 replaces them with topics (name or topic id). */
export const DeleteTopics = defineApi({
  apiKey: 20,
  name: 'DeleteTopics',
  versions: '0-6',
  flexibleVersions: '4+',
  request: {
    topics: {
      type: 'struct[]',
      versions: '6+',
      fields: {
        name: { type: 'string', nullable: '6+', default: null },
        topicId: 'uuid',
      },
    },
    topicNames: { type: 'string[]', versions: '0-5' },
    timeoutMs: 'int32',
  },
  response: {
    throttleTimeMs: { type: 'int32', versions: '1+' },
    responses: {
      type: 'struct[]',
      fields: {
        name: { type: 'string', nullable: '6+' },
        topicId: { type: 'uuid', versions: '6+' },
        errorCode: 'int16',
        errorMessage: { type: 'string', versions: '5+', nullable: '5+', default: null },
      },
    },
  },
});

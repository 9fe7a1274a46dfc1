import { defineApi } from '../schema';

/** DescribeUserScramCredentials (key 50). Flexible from v0; null or empty users describes every user. */
export const DescribeUserScramCredentials = defineApi({
  apiKey: 50,
  name: 'DescribeUserScramCredentials',
  versions: '0',
  flexibleVersions: '0+',
  request: {
    users: { type: 'struct[]', nullable: '0+', fields: { name: 'string' } },
  },
  response: {
    throttleTimeMs: 'int32',
    errorCode: 'int16',
    errorMessage: { type: 'string', nullable: '0+' },
    results: {
      type: 'struct[]',
      fields: {
        user: 'string',
        errorCode: 'int16',
        errorMessage: { type: 'string', nullable: '0+' },
        credentialInfos: {
          type: 'struct[]',
          fields: { mechanism: 'int8', iterations: 'int32' },
        },
      },
    },
  },
});

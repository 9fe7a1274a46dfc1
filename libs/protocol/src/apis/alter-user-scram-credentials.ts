import { defineApi } from '../schema';

/** AlterUserScramCredentials (key 51). Flexible from v0; the client sends salt and salted password, never the password (mechanism 1 = SHA-256, 2 = SHA-512). */
export const AlterUserScramCredentials = defineApi({
  apiKey: 51,
  name: 'AlterUserScramCredentials',
  versions: '0',
  flexibleVersions: '0+',
  request: {
    deletions: {
      type: 'struct[]',
      fields: { name: 'string', mechanism: 'int8' },
    },
    upsertions: {
      type: 'struct[]',
      fields: {
        name: 'string',
        mechanism: 'int8',
        iterations: 'int32',
        salt: 'bytes',
        saltedPassword: 'bytes',
      },
    },
  },
  response: {
    throttleTimeMs: 'int32',
    results: {
      type: 'struct[]',
      fields: { user: 'string', errorCode: 'int16', errorMessage: { type: 'string', nullable: '0+' } },
    },
  },
});

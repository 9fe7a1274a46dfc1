import { defineApi } from '../schema';

/**
 * SaslHandshake (key 17). Never flexible. After a v0 handshake the client sends raw SASL tokens
 * (size-prefixed, with no request header); after v1 it wraps them in SaslAuthenticate.
 */
export const SaslHandshake = defineApi({
  apiKey: 17,
  name: 'SaslHandshake',
  versions: '0-1',
  flexibleVersions: 'none',
  request: {
    mechanism: 'string',
  },
  response: {
    errorCode: 'int16',
    mechanisms: 'string[]',
  },
});

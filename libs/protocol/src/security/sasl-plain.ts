/** SASL PLAIN (RFC 4616): authzid NUL authcid NUL passwd, in UTF-8. */
export function encodePlainToken(username: string, password: string): Buffer {
  return Buffer.from(`\u0000${username}\u0000${password}`, 'utf8');
}

/** The token's parts; null when it is not three NUL-separated fields with a user and a password. */
export function decodePlainToken(
  token: Buffer,
): { authzid: string; username: string; password: string } | null {
  const first = token.indexOf(0);
  const second = first < 0 ? -1 : token.indexOf(0, first + 1);
  if (second < 0 || token.indexOf(0, second + 1) >= 0) return null;
  const username = token.subarray(first + 1, second).toString('utf8');
  const password = token.subarray(second + 1).toString('utf8');
  if (username === '' || password === '') return null;
  return { authzid: token.subarray(0, first).toString('utf8'), username, password };
}

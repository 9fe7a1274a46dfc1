import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requiredRole } from '../http/endpoint';
import { bearerTokenOf, findToken, tokenSha256, type ConsoleSecurity } from './bearer-tokens';
import { roleAllows } from './roles';

const security: ConsoleSecurity = {
  tokens: [
    { name: 'v', role: 'viewer', sha256: Buffer.from(tokenSha256('viewer-token-0001'), 'hex') },
    { name: 'a', role: 'admin', sha256: Buffer.from(tokenSha256('admin-token-0002'), 'hex') },
  ],
};

test('a bearer token is read from the Authorization header, the scheme in any case', () => {
  assert.equal(bearerTokenOf('Bearer abc.DEF-123_~+/=='), 'abc.DEF-123_~+/==');
  assert.equal(bearerTokenOf('bearer abc'), 'abc');
  for (const h of [
    undefined,
    '',
    'Bearer',
    'Bearer ',
    'Basic YWxhZGRpbjpvcGVuc2VzYW1l',
    'Bearer a b',
    'Bearer a\u0000',
  ])
    assert.equal(bearerTokenOf(h), null, String(h));
});

test('a token is found by its SHA-256; anything else is unknown', () => {
  assert.equal(findToken(security, 'viewer-token-0001')?.name, 'v');
  assert.equal(findToken(security, 'admin-token-0002')?.role, 'admin');
  assert.equal(findToken(security, 'admin-token-000'), null);
  assert.equal(findToken(security, ''), null);
});

test('roles: viewer < operator < admin; GET needs viewer, other methods admin unless the endpoint says', () => {
  assert.equal(roleAllows('viewer', 'viewer'), true);
  assert.equal(roleAllows('viewer', 'operator'), false);
  assert.equal(roleAllows('operator', 'operator'), true);
  assert.equal(roleAllows('operator', 'admin'), false);
  assert.equal(roleAllows('admin', 'operator'), true);
  assert.equal(roleAllows('viewer', 'public'), true);
  assert.equal(requiredRole({ method: 'GET' }), 'viewer');
  assert.equal(requiredRole({ method: 'DELETE' }), 'admin');
  assert.equal(requiredRole({ method: 'POST', role: 'operator' }), 'operator');
  assert.equal(requiredRole({ method: 'GET', role: 'public' }), 'public');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { securityFromProperties } from './security';

const fail = (key: string, problem: string): never => {
  throw new Error(`${key}: ${problem}`);
};

test('a secret given as ${env:NAME} is read from the environment; an unset one is refused by key', () => {
  process.env.TRIBUTARY_TEST_SASL_PASSWORD = 'from-the-environment';
  try {
    const read = securityFromProperties(
      {
        'security.protocol': 'SASL_PLAINTEXT',
        'sasl.mechanism': 'SCRAM-SHA-256',
        'sasl.username': 'mirror',
        'sasl.password': '${env:TRIBUTARY_TEST_SASL_PASSWORD}',
      },
      fail,
    );
    assert.deepEqual(read.sasl, {
      mechanism: 'SCRAM-SHA-256',
      username: 'mirror',
      password: 'from-the-environment',
    });
  } finally {
    delete process.env.TRIBUTARY_TEST_SASL_PASSWORD;
  }
  assert.throws(
    () =>
      securityFromProperties(
        {
          'security.protocol': 'SASL_SSL',
          'sasl.username': 'mirror',
          'sasl.password': '${env:TRIBUTARY_TEST_UNSET}',
        },
        fail,
      ),
    /^Error: sasl.password: names the environment variable TRIBUTARY_TEST_UNSET, which is not set$/,
  );
  const literal = securityFromProperties(
    { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.username': 'u', 'sasl.password': 'plain-$' },
    fail,
  );
  assert.equal(literal.sasl?.password, 'plain-$');
});

test('settings that do not fit the protocol are refused by key', () => {
  assert.throws(
    () => securityFromProperties({ 'security.protocol': 'PLAINTEXT', 'sasl.username': 'u' }, fail),
    /^Error: sasl.username: is set but security.protocol is PLAINTEXT$/,
  );
  assert.throws(
    () =>
      securityFromProperties({ 'security.protocol': 'SSL', 'ssl.certificate.location': __filename }, fail),
    /^Error: ssl.key.location: is needed with the other/,
  );
  assert.deepEqual(securityFromProperties({}, fail), { ssl: undefined, sasl: undefined });
});

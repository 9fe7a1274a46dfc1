import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import {
  AclOperation as Op,
  AclPatternType,
  AclPermissionType,
  AclResourceType,
  type AclBinding,
} from '@tributary/protocol';
import { parseBrokerConfig } from '../config/broker-config';
import { FileBrokerConfigStore } from '../config/broker-config-store';
import { DynamicBrokerConfig } from '../config/dynamic-broker-config';
import { AclAuthorizer } from './acl-authorizer';
import { parseJaasConfig } from './jaas';
import { parsePrincipalMappingRules } from './principal';
import { Session } from './session';

const acl = (
  principal: string,
  operation: number,
  resourceName: string,
  options: Partial<AclBinding> = {},
): AclBinding => ({
  resourceType: AclResourceType.TOPIC,
  resourceName,
  patternType: AclPatternType.LITERAL,
  principal,
  host: '*',
  operation,
  permissionType: AclPermissionType.ALLOW,
  ...options,
});

const session = (principal: string, host = '10.0.0.1') => {
  const s = new Session('SASL_SSL', host);
  s.authenticated(principal);
  return s;
};

test("the ACL authorizer follows Kafka's rules: literal, wildcard, prefixed; DENY wins; implied DESCRIBE", () => {
  const auth = new AclAuthorizer({
    enabled: true,
    superUsers: new Set(['User:admin']),
    allowEveryoneIfNoAclFound: false,
  });
  auth.setAcls([
    acl('User:alice', Op.WRITE, 'orders'),
    acl('User:alice', Op.READ, 'pay', { patternType: AclPatternType.PREFIXED }),
    acl('User:*', Op.DESCRIBE, '*'),
    acl('User:bob', Op.ALL, 'pay', { patternType: AclPatternType.PREFIXED }),
    acl('User:bob', Op.WRITE, 'payroll', { permissionType: AclPermissionType.DENY }),
    acl('User:carol', Op.ALTER_CONFIGS, 'orders', { host: '10.0.0.9' }),
  ]);
  const alice = session('User:alice');
  const bob = session('User:bob');
  const T = AclResourceType.TOPIC;
  assert.equal(auth.authorize(alice, Op.WRITE, T, 'orders'), true);
  assert.equal(auth.authorize(alice, Op.READ, T, 'orders'), false);
  assert.equal(auth.authorize(alice, Op.READ, T, 'payments'), true);
  assert.equal(auth.authorize(alice, Op.WRITE, T, 'payments'), false);
  assert.equal(
    auth.authorize(session('User:eve'), Op.DESCRIBE, T, 'anything'),
    true,
    'wildcard name and principal',
  );
  assert.equal(auth.authorize(bob, Op.WRITE, T, 'payments'), true, 'ALL covers WRITE');
  assert.equal(auth.authorize(bob, Op.WRITE, T, 'payroll'), false, 'DENY wins over the prefixed ALLOW');
  assert.equal(auth.authorize(bob, Op.READ, T, 'payroll'), true);
  assert.equal(auth.authorize(session('User:carol', '10.0.0.9'), Op.DESCRIBE_CONFIGS, T, 'orders'), true);
  assert.equal(auth.authorize(session('User:carol', '10.0.0.8'), Op.DESCRIBE_CONFIGS, T, 'orders'), false);
  assert.equal(auth.authorize(alice, Op.READ, AclResourceType.GROUP, 'g'), false, 'no ACL at all: denied');
  assert.equal(
    auth.authorize(session('User:admin'), Op.ALTER, AclResourceType.CLUSTER, 'kafka-cluster'),
    true,
  );
  assert.equal(auth.authorizeByResourceType(alice, Op.WRITE, T), true);
  assert.equal(auth.authorizeByResourceType(session('User:eve'), Op.WRITE, T), false);
  // A cached decision follows a change of the ACLs.
  auth.setAcls([]);
  assert.equal(auth.authorize(alice, Op.WRITE, T, 'orders'), false);
  const open = new AclAuthorizer({ enabled: true, superUsers: new Set(), allowEveryoneIfNoAclFound: true });
  assert.equal(open.authorize(alice, Op.WRITE, T, 'orders'), true);
  open.setAcls([acl('User:bob', Op.WRITE, 'orders')]);
  assert.equal(
    open.authorize(alice, Op.WRITE, T, 'orders'),
    false,
    'a resource with ACLs is closed to the rest',
  );
});

test('sasl.jaas.config gives the PLAIN users and the broker login; errors never quote it', () => {
  const jaas = parseJaasConfig(
    'org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="b-pw" ' +
      'user_broker="b-pw" user_alice="a \\"quoted\\" pw";',
    'f.yaml',
  );
  assert.equal(jaas.username, 'broker');
  assert.equal(jaas.password, 'b-pw');
  assert.deepEqual(
    [...jaas.plainUsers],
    [
      ['broker', 'b-pw'],
      ['alice', 'a "quoted" pw'],
    ],
  );
  for (const bad of [
    'PlainLoginModule required user_x="secret-1"',
    'x y user_a="secret-1";',
    'M required user_a="secret-1;',
  ]) {
    assert.throws(
      () => parseJaasConfig(bad, 'f.yaml'),
      (err: Error) =>
        err.message.startsWith('f.yaml: sasl.jaas.config:') && !err.message.includes('secret-1'),
    );
  }
});

test('ssl.principal.mapping.rules: the first matching rule, case folding, DEFAULT', () => {
  const map = parsePrincipalMappingRules(
    'RULE:^CN=([^,]+),OU=svc,.*$/$1/L, RULE:^CN=([^,]+).*$/$1@x/, DEFAULT',
    'f',
  );
  assert.equal(map('CN=Mirror,OU=svc,O=T'), 'mirror');
  assert.equal(map('CN=alice,O=T'), 'alice@x');
  assert.equal(parsePrincipalMappingRules('RULE:^CN=a$/b/', 'f')('CN=z'), null);
  assert.equal(parsePrincipalMappingRules('DEFAULT', 'f')('CN=z,O=T'), 'CN=z,O=T');
});

test('a map where a broker setting belongs is refused with the key named', () => {
  assert.throws(
    () =>
      parseBrokerConfig([{ source: 'broker.yaml', values: { 'node.id': 1, listeners: { plain: 9092 } } }]),
    /^ConfigError: broker\.yaml: listeners: must be a value or a list of values$/,
  );
});

test('security settings are checked at start with the key named, and secrets are never described', () => {
  const parse = (values: Record<string, unknown>) =>
    parseBrokerConfig([{ source: 'broker.yaml', values: { 'node.id': 1, ...values } }]);
  assert.throws(
    () => parse({ listeners: 'SSL://127.0.0.1:0' }),
    /broker\.yaml: ssl\.keystore\.location: listener SSL is SSL/,
  );
  assert.throws(
    () => parse({ listeners: 'INTERNAL://127.0.0.1:0' }),
    /listener\.security\.protocol\.map: has no protocol for listener INTERNAL/,
  );
  assert.throws(
    () => parse({ listeners: 'SASL_PLAINTEXT://127.0.0.1:0' }),
    /sasl\.jaas\.config: needs username and password: the inter-broker listener SASL_PLAINTEXT/,
  );
  assert.throws(
    () => parse({ 'authorizer.class.name': 'Nope' }),
    /authorizer\.class\.name: "Nope" is not one of/,
  );
  assert.throws(
    () => parse({ 'sasl.scram.bootstrap.users': 'SCRAM-SHA-256=[name=a,pasword=hunter2]' }),
    (err: Error) => /unknown field pasword/.test(err.message) && !err.message.includes('hunter2'),
  );
  assert.throws(
    () => parse({ 'listener.name.x.ssl.nope': 'v' }),
    /listener\.name\.x\.ssl\.nope: unknown configuration key/,
  );
  const config = parse({
    listeners: 'INTERNAL://127.0.0.1:0,EXTERNAL://127.0.0.1:0',
    'listener.security.protocol.map': 'INTERNAL:SASL_PLAINTEXT,EXTERNAL:PLAINTEXT',
    'inter.broker.listener.name': 'INTERNAL',
    'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
    'sasl.jaas.config':
      'org.apache.kafka.common.security.scram.ScramLoginModule required username="b" password="hunter2";',
    'super.users': ['User:b', 'User:CN=x,O=y'],
  });
  assert.equal(config.security.interBroker.sasl?.mechanism, 'SCRAM-SHA-512');
  assert.deepEqual([...config.security.superUsers], ['User:b', 'User:CN=x,O=y']);
  const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };
  const dynamic = new DynamicBrokerConfig(config, new FileBrokerConfigStore(os.tmpdir()), silent);
  const described = dynamic.describe('1', ['sasl.jaas.config', 'super.users'], {});
  assert.deepEqual(
    described.map((c) => [c.name, c.value, c.isSensitive]),
    [
      ['sasl.jaas.config', null, true],
      ['super.users', 'User:b;User:CN=x,O=y', false],
    ],
  );
});

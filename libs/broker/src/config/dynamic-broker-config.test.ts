import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { AlterConfigOp, brokerLevelLogKeys, ConfigSource } from '@tributary/storage';
import { parseBrokerConfig } from './broker-config';
import { DEFAULT_ENTITY, FileBrokerConfigStore } from './broker-config-store';
import {
  DynamicBrokerConfig,
  updateMode,
  validateDynamicConfigs,
  type ConfigChange,
} from './dynamic-broker-config';

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

function setup(statics: Record<string, string> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dynamic-config-'));
  const config = parseBrokerConfig(
    [{ source: 'broker.yaml', values: { 'node.id': 1, 'log.dirs': dir, ...statics } }],
    brokerLevelLogKeys(),
  );
  const store = new FileBrokerConfigStore(dir);
  const changes: ConfigChange[] = [];
  const dynamic = new DynamicBrokerConfig(config, store, silent);
  dynamic.addReconfigurable((c) => changes.push(c));
  return { dir, config, store, dynamic, changes };
}

const set = (name: string, value: string | null) => ({ name, value, op: AlterConfigOp.SET });

test("Kafka's update modes: per-broker, cluster-wide, read-only (and ours for listeners)", () => {
  assert.equal(updateMode('log.retention.ms'), 'cluster-wide');
  assert.equal(updateMode('log.retention.hours'), 'read-only');
  assert.equal(updateMode('message.max.bytes'), 'cluster-wide');
  assert.equal(updateMode('log.cleaner.backoff.ms'), 'cluster-wide');
  assert.equal(updateMode('num.io.threads'), 'cluster-wide');
  assert.equal(updateMode('sasl.kerberos.min.time.before.relogin'), 'per-broker');
  assert.equal(updateMode('listener.name.ssl.ssl.keystore.location'), 'per-broker');
  assert.equal(updateMode('listener.name.sasl_ssl.sasl.enabled.mechanisms'), 'read-only');
  assert.equal(updateMode('listeners'), 'read-only');
  assert.equal(updateMode('log.dirs'), 'read-only');
  assert.equal(updateMode('no.such.config'), null);
});

test("an update's errors are Kafka's, checked in Kafka's order", () => {
  const check = (props: Record<string, string>, perBroker: boolean) => () =>
    validateDynamicConfigs(props, perBroker, ['PLAINTEXT', 'SSL']);
  assert.throws(check({ 'no.such': '1' }, true), /INVALID_CONFIG: Unknown config name: no\.such/);
  assert.throws(
    check({ 'log.dirs': '/x', 'num.partitions': '3', 'log.retention.ms': '1' }, true),
    /INVALID_REQUEST: Cannot update these configs dynamically: Set\(log\.dirs, num\.partitions\)/,
  );
  assert.throws(
    check({ 'ssl.keystore.location': '/k' }, true),
    /only per-listener using the listener prefix: Set\(ssl\.keystore\.location\)/,
  );
  assert.throws(
    check({ 'log.segment.bytes': '10' }, true),
    /INVALID_REQUEST: Invalid value 10 for configuration log\.segment\.bytes: Value must be at least 14/,
  );
  assert.throws(
    check({ 'num.io.threads': 'many' }, false),
    /Invalid value many for configuration num\.io\.threads: Not a number of type INT/,
  );
  assert.throws(
    check({ 'listener.name.ssl.ssl.client.auth': 'required', 'log.retention.ms': '5' }, false),
    /at default cluster level, broker id must be specified: Set\(listener\.name\.ssl\.ssl\.client\.auth\)/,
  );
  assert.throws(check({ 'listener.name.other.ssl.client.auth': 'none' }, true), /names listener OTHER/);
  check({ 'log.retention.ms': '1000', 'sasl.kerberos.min.time.before.relogin': '58000' }, true)();
});

test('legacy AlterConfigs replaces the set; incremental SETs, DELETEs, APPENDs and SUBTRACTs', async () => {
  const { dynamic, store } = setup();
  await dynamic.start();
  await dynamic.alter('1', [set('log.retention.ms', '1000'), set('log.cleaner.backoff.ms', '500')], {
    incremental: false,
    validateOnly: false,
  });
  await dynamic.alter('1', [set('log.retention.bytes', '2048')], { incremental: false, validateOnly: false });
  assert.deepEqual((await store.read('1')).configs, { 'log.retention.bytes': '2048' });
  const inc = { incremental: true, validateOnly: false };
  await dynamic.alter(
    '1',
    [
      set('log.retention.ms', '1000'),
      { name: 'log.retention.bytes', value: null, op: AlterConfigOp.DELETE },
      { name: 'log.cleanup.policy', value: 'compact', op: AlterConfigOp.APPEND },
    ],
    inc,
  );
  assert.deepEqual((await store.read('1')).configs, {
    'log.retention.ms': '1000',
    'log.cleanup.policy': 'delete,compact',
  });
  await dynamic.alter(
    '1',
    [{ name: 'log.cleanup.policy', value: 'delete', op: AlterConfigOp.SUBTRACT }],
    inc,
  );
  assert.equal((await store.read('1')).configs['log.cleanup.policy'], 'compact');
  await assert.rejects(
    dynamic.alter('1', [{ name: 'log.retention.ms', value: '1', op: AlterConfigOp.APPEND }], inc),
    /INVALID_CONFIG: Config value append is not allowed for config key: log\.retention\.ms/,
  );
  await assert.rejects(
    dynamic.alter('1', [set('log.retention.ms', '1'), set('log.retention.ms', '2')], inc),
    /INVALID_REQUEST: Error due to duplicate config keys/,
  );
  await assert.rejects(
    dynamic.alter('1', [set('log.retention.ms', null)], inc),
    /Null value not supported for : log\.retention\.ms/,
  );
  await assert.rejects(
    dynamic.alter('2', [set('log.retention.ms', '1')], inc),
    /Unexpected broker id, expected 1, but received 2/,
  );
  await assert.rejects(
    dynamic.alter('one', [set('log.retention.ms', '1')], inc),
    /Node id must be an integer, but it is: one/,
  );
  await dynamic.alter(DEFAULT_ENTITY, [set('log.retention.ms', '5')], {
    incremental: true,
    validateOnly: true,
  });
  assert.deepEqual((await store.read(DEFAULT_ENTITY)).configs, {}, 'validate-only stores nothing');
  // The whole configuration must hold: a dynamic min above a static max is refused.
  await assert.rejects(
    dynamic.alter(
      DEFAULT_ENTITY,
      [set('log.cleaner.min.compaction.lag.ms', '10'), set('log.cleaner.max.compaction.lag.ms', '5')],
      inc,
    ),
    /INVALID_REQUEST: Invalid dynamic configuration: conflict topic config setting min\.compaction\.lag\.ms/,
  );
});

test("describe: sources and synonyms in Kafka's order; the default resource lists only dynamic defaults", async () => {
  const { dynamic, changes } = setup({ 'log.retention.hours': '24', 'message.max.bytes': '5000' });
  await dynamic.start();
  const inc = { incremental: true, validateOnly: false };
  await dynamic.alter(
    DEFAULT_ENTITY,
    [set('log.retention.ms', '7200000'), set('message.max.bytes', '3000')],
    inc,
  );
  await dynamic.alter('1', [set('log.retention.ms', '3600000')], inc);
  assert.equal(dynamic.current.values['log.retention.ms'], '3600000');
  assert.equal(dynamic.current.values['message.max.bytes'], '3000');
  assert.equal(changes.length, 2);
  const byName = (resource: string) =>
    new Map(dynamic.describe(resource, [], { includeSynonyms: true }).map((c) => [c.name, c]));
  const broker = byName('1');
  assert.deepEqual(broker.get('log.retention.ms')?.synonyms, [
    { name: 'log.retention.ms', value: '3600000', source: ConfigSource.DYNAMIC_BROKER_CONFIG },
    { name: 'log.retention.ms', value: '7200000', source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG },
    { name: 'log.retention.hours', value: '24', source: ConfigSource.STATIC_BROKER_CONFIG },
    { name: 'log.retention.hours', value: '168', source: ConfigSource.DEFAULT_CONFIG },
  ]);
  assert.deepEqual(broker.get('log.retention.hours')?.synonyms, [
    { name: 'log.retention.hours', value: '24', source: ConfigSource.STATIC_BROKER_CONFIG },
    { name: 'log.retention.hours', value: '168', source: ConfigSource.DEFAULT_CONFIG },
  ]);
  const size = broker.get('message.max.bytes')!;
  assert.deepEqual(
    [size.value, size.configSource, size.readOnly],
    ['3000', ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, false],
  );
  const dirs = broker.get('log.dirs')!;
  assert.deepEqual([dirs.configSource, dirs.readOnly], [ConfigSource.STATIC_BROKER_CONFIG, true]);
  const defaults = byName('');
  assert.deepEqual([...defaults.keys()], ['log.retention.ms', 'message.max.bytes']);
  assert.deepEqual(defaults.get('log.retention.ms')?.synonyms, [
    { name: 'log.retention.ms', value: '7200000', source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG },
  ]);
  assert.deepEqual(
    dynamic.describe('1', ['log.retention.ms'], {})[0].synonyms,
    [],
    'synonyms only when asked',
  );
  assert.throws(
    () => dynamic.describe('2', null, {}),
    /Unexpected broker id, expected 1 or empty string, but received 2/,
  );
  assert.throws(() => dynamic.describe('x', null, {}), /Broker id must be an integer, but it is: x/);
});

test('stored configs come back at start; ones this version refuses are left out', async () => {
  const first = setup();
  await first.dynamic.start();
  await first.dynamic.alter('1', [set('log.segment.bytes', '2048')], {
    incremental: true,
    validateOnly: false,
  });
  await first.store.write(DEFAULT_ENTITY, 0, { 'log.dirs': '/elsewhere', 'log.retention.bytes': '99' });
  const again = new DynamicBrokerConfig(first.config, new FileBrokerConfigStore(first.dir), silent);
  await again.start();
  assert.equal(again.current.values['log.segment.bytes'], '2048');
  assert.equal(again.current.values['log.retention.bytes'], '99');
  assert.equal(
    again.current.values['log.dirs'],
    first.dir,
    'a read-only setting stored by mistake is ignored',
  );
  assert.equal((fs.statSync(path.join(first.dir, 'broker-configs.json')).mode & 0o777).toString(8), '600');
});

test('an update naming a TLS setting has its listeners read again, even with the same value', async () => {
  const { dynamic, changes } = setup();
  await dynamic.start();
  const inc = { incremental: true, validateOnly: false };
  const ciphers = set('listener.name.plaintext.ssl.cipher.suites', 'ECDHE-ECDSA-AES128-GCM-SHA256');
  await dynamic.alter('1', [ciphers], inc);
  await dynamic.alter('1', [ciphers], inc);
  await dynamic.alter('1', [set('log.retention.ms', '5')], inc);
  assert.deepEqual(
    changes.map((c) => [...c.reloadListeners]),
    [['PLAINTEXT'], ['PLAINTEXT'], []],
  );
});

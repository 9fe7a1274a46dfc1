import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { Admin, Producer, type ClientOptions } from '@tributary/client';
import { MAIN, runAsync, startBroker, tempDir, type BrokerProcess } from '../support/broker-process';
import { until } from '../support/mirror-process';
import { makeCertificates, type TestCertificates } from '../support/tls-certs';
import { apiClient, startConsoleProcess, type ConsoleProcess } from './console-support';

const CONSOLE_PASSWORD = 'console-secret-5d1e';
const WRONG_PASSWORD = 'not-the-password-93ab';

// A broker process with a SASL_SSL listener (SCRAM-SHA-512, the test CA's certificate) and
// `tributary console` reaching it through a cluster entry's client settings by librdkafka's
// names; a second entry with a wrong password. The password is never in a response or the
// console's output.
describe('the console reaches a SASL_SSL cluster with SCRAM through per-cluster client settings', () => {
  let certs: TestCertificates;
  let broker: BrokerProcess;
  let saslSsl: string;
  let configFile: string;
  let consoleProcess: ConsoleProcess;
  let api: ReturnType<typeof apiClient>;

  const client = (password: string) => ({
    'security.protocol': 'SASL_SSL',
    'sasl.mechanism': 'SCRAM-SHA-512',
    'sasl.username': 'console',
    'sasl.password': password,
    'ssl.ca.location': certs.ca,
    retries: 0,
  });

  before(async () => {
    certs = makeCertificates();
    const brokerConfig = path.join(tempDir('secure-console'), 'broker.yaml');
    fs.writeFileSync(
      brokerConfig,
      stringify({
        'inter.broker.listener.name': 'SSL',
        'ssl.key.location': certs.brokerKey,
        'ssl.certificate.location': certs.brokerCert,
        'ssl.ca.location': certs.ca,
        'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
        'sasl.scram.bootstrap.users': `SCRAM-SHA-512=[name=console,password=${CONSOLE_PASSWORD}]`,
        'connection.failed.authentication.delay.ms': 20,
        'auto.create.topics.enable': false,
      }),
    );
    broker = await startBroker({
      extraArgs: ['--config', brokerConfig, '--set', 'listeners=SASL_SSL://127.0.0.1:0,SSL://127.0.0.1:0'],
    });
    await until('two listeners', () => Object.keys(broker.listenerPorts()).length === 2, 10_000, 50);
    saslSsl = `127.0.0.1:${broker.listenerPorts().SASL_SSL}`;
    const options: ClientOptions = {
      bootstrapServers: saslSsl,
      ssl: { ca: fs.readFileSync(certs.ca) },
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'console', password: CONSOLE_PASSWORD },
    };
    const admin = new Admin(options);
    await admin.createTopics([{ name: 'payments', numPartitions: 2 }]);
    await admin.close();
    const producer = new Producer(options);
    await producer.send({
      topic: 'payments',
      messages: [
        { key: 'p1', value: 'paid 10', partition: 0 },
        { key: 'p2', value: 'paid 20', partition: 0 },
      ],
    });
    await producer.close();

    configFile = path.join(tempDir('secure-console'), 'console.yaml');
    fs.writeFileSync(
      configFile,
      stringify({
        http: { host: '127.0.0.1', port: 0 },
        clusters: [
          {
            alias: 'secure',
            'bootstrap.servers': saslSsl,
            datacenter: 'dc1',
            client: client(CONSOLE_PASSWORD),
          },
          { alias: 'wrong-password', 'bootstrap.servers': saslSsl, client: client(WRONG_PASSWORD) },
        ],
      }),
    );
    consoleProcess = await startConsoleProcess(configFile);
    api = apiClient(consoleProcess.url);
  });

  after(async () => {
    await consoleProcess?.stop();
    await broker?.stop();
  });

  test('topics, records and a new topic through TLS and SCRAM; a wrong password is unreachable and says why', async () => {
    const clusters = await api('GET', '/api/clusters');
    assert.equal(clusters.status, 200);
    const [secure, wrong] = clusters.body.items;
    assert.deepEqual([secure.alias, secure.reachable, secure.error], ['secure', true, null]);
    assert.deepEqual([wrong.alias, wrong.reachable], ['wrong-password', false]);
    assert.match(wrong.error, /SASL_AUTHENTICATION_FAILED/);
    const topics = await api('GET', '/api/clusters/secure/topics');
    assert.deepEqual(
      topics.body.items.map((t: { name: string }) => t.name),
      ['payments'],
    );
    // The record viewer's consumer connects with the same settings.
    const records = await api('GET', '/api/clusters/secure/topics/payments/partitions/0/records?offset=0');
    assert.equal(records.status, 200, JSON.stringify(records.body));
    assert.deepEqual(
      records.body.records.map((r: { key: string; value: string }) => [r.key, r.value]),
      [
        ['p1', 'paid 10'],
        ['p2', 'paid 20'],
      ],
    );
    const created = await api('POST', '/api/clusters/secure/topics', { name: 'refunds', partitions: 1 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    // The console's own credentials were refused: the cluster is unavailable to it (503), not
    // the caller unauthorized (a 401 would make the dashboard ask for its token).
    const refused = await api('GET', '/api/clusters/wrong-password/topics');
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(refused.body.details.kafkaError, 'SASL_AUTHENTICATION_FAILED');
    const metrics = await (await fetch(`${consoleProcess.url}/metrics`)).text();
    assert.match(metrics, /^tributary_cluster_up\{cluster="secure"\} 1$/m);
    assert.match(metrics, /^tributary_cluster_up\{cluster="wrong-password"\} 0$/m);
  });

  test('tributary topics reaches the secured cluster through --console-config', async () => {
    const r = await runAsync(
      process.execPath,
      [MAIN, 'topics', 'list', '--console-config', configFile, '--cluster', 'secure', '--json'],
      { timeoutMs: 30_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      JSON.parse(r.stdout).map((t: { name: string }) => t.name),
      ['payments', 'refunds'],
    );
  });

  test('no password in any response or in the console’s output', async () => {
    const seen: string[] = [];
    for (const p of [
      '/api/clusters',
      '/api/clusters/secure',
      '/api/clusters/wrong-password',
      '/api/clusters/secure/brokers',
      '/api/clusters/secure/brokers/1/configs',
      '/api/topology',
      '/api/ready',
      '/openapi.json',
      '/metrics',
    ]) {
      const res = await fetch(`${consoleProcess.url}${p}`);
      seen.push(`${p} ${res.status}: ${await res.text()}`);
    }
    // The broker's configs name its SCRAM bootstrap users; DescribeConfigs hides the value.
    assert.match(seen[4], /^\S+ 200: .*"name":"sasl\.scram\.bootstrap\.users","value":null,/);
    const topology = await api('GET', '/api/topology');
    assert.deepEqual(topology.body.clusters[0], {
      alias: 'secure',
      datacenter: 'dc1',
      bootstrapServers: [saslSsl],
    });
    assert.equal(await consoleProcess.stop(), 0);
    for (const text of [...seen, consoleProcess.output()])
      for (const secret of [CONSOLE_PASSWORD, WRONG_PASSWORD])
        assert.ok(!text.includes(secret), `a password shows in: ${text.slice(0, 300)}`);
  });
});

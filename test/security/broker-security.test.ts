import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import {
  AclOperation,
  AclPatternType,
  AclPermissionType,
  AclResourceType,
  Admin,
  Connection,
  ErrorCode,
  KafkaProtocolError,
  type ClientOptions,
} from '@tributary/client';
import {
  DeleteTopics,
  DescribeCluster,
  DescribeGroups,
  encodeRecordBatch,
  encodeRequest,
  Metadata,
  MirrorProduce,
  SaslAuthenticate,
  SaslHandshake,
} from '@tributary/protocol';
import {
  PYTHON,
  PYTHON_DIR,
  runAsync,
  startBroker,
  tempDir,
  type BrokerProcess,
} from '../support/broker-process';
import { allow } from '../support/acls';
import { until } from '../support/mirror-process';
import { makeCertificates, type TestCertificates } from '../support/tls-certs';

/** Kafka's null topic id (16 zero bytes), as our uuid fields carry it. */
const NULL_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
const ADMIN_PASSWORD = 'admin-secret-7f3a';
const ALICE_PASSWORD = 'alice-secret-91b2';
const BOB_PASSWORD = 'bob-secret-4c8d';
const MALLORY_PASSWORD = 'mallory-secret-0e5f';
const WRONG_PASSWORD = 'wrong-password-66aa';
/** Every secret of this test: none may appear in the broker's log. */
const SECRETS = [ADMIN_PASSWORD, ALICE_PASSWORD, BOB_PASSWORD, MALLORY_PASSWORD, WRONG_PASSWORD];

/**
 * One broker with a SASL_SSL listener (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), an SSL listener
 * that requires client certificates and a PLAINTEXT one, the ACL authorizer on and an admin
 * SCRAM user from the config; checked with kcat, confluent-kafka, kafka-python and our client.
 */
describe('a secured broker: SASL_SSL with SCRAM, SSL with client certificates, ACLs', () => {
  let certs: TestCertificates;
  let broker: BrokerProcess;
  let ports: Record<string, number>;
  let admin: Admin;
  let saslSsl: string;

  const clientOptions = (
    user: string,
    password: string,
    mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512' | 'PLAIN',
  ): ClientOptions => ({
    bootstrapServers: saslSsl,
    ssl: { ca: fs.readFileSync(certs.ca) },
    sasl: { mechanism, username: user, password },
    retries: 0,
  });

  /** librdkafka's settings for the SASL_SSL listener. */
  const rdkafka = (user: string, password: string, mechanism: string): string[] => [
    `bootstrap.servers=${saslSsl}`,
    'security.protocol=SASL_SSL',
    `sasl.mechanism=${mechanism}`,
    `sasl.username=${user}`,
    `sasl.password=${password}`,
    `ssl.ca.location=${certs.ca}`,
  ];
  const kcatX = (settings: string[]) => settings.flatMap((s) => ['-X', s]);

  const endOffset = async (topic: string): Promise<number> =>
    (await admin.listOffsets([{ topic, partition: 0 }], 'latest'))[0].offset;

  const python = async (script: string, args: string[]) => {
    const r = await runAsync(PYTHON, [path.join(PYTHON_DIR, script), ...args], { timeoutMs: 40_000 });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    assert.ok(line.startsWith('{'), `${script} ${args[0]}: ${r.stdout}\n${r.stderr}`);
    return JSON.parse(line);
  };

  before(async () => {
    certs = makeCertificates();
    const configFile = path.join(tempDir('secure-config'), 'broker.yaml');
    fs.writeFileSync(
      configFile,
      stringify({
        'inter.broker.listener.name': 'SSL',
        'ssl.key.location': certs.brokerKey,
        'ssl.certificate.location': certs.brokerCert,
        'ssl.ca.location': certs.ca,
        'listener.name.ssl.ssl.client.auth': 'required',
        'ssl.principal.mapping.rules': 'RULE:^CN=([^,]+),OU=clients,.*$/$1/L,DEFAULT',
        'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
        'sasl.jaas.config':
          'org.apache.kafka.common.security.plain.PlainLoginModule required ' +
          `user_admin="${ADMIN_PASSWORD}" user_carol="carol-plain";`,
        'sasl.scram.bootstrap.users': `SCRAM-SHA-512=[name=admin,password=${ADMIN_PASSWORD}]`,
        'authorizer.class.name': 'kafka.security.authorizer.AclAuthorizer',
        'super.users': 'User:admin',
        'connection.failed.authentication.delay.ms': 20,
        'auto.create.topics.enable': false,
      }),
    );
    broker = await startBroker({
      extraArgs: [
        '--config',
        configFile,
        '--set',
        'listeners=SASL_SSL://127.0.0.1:0,SSL://127.0.0.1:0,PLAINTEXT://127.0.0.1:0',
      ],
    });
    await until('three listeners', () => Object.keys(broker.listenerPorts()).length === 3, 10_000, 50);
    ports = broker.listenerPorts();
    saslSsl = `127.0.0.1:${ports.SASL_SSL}`;
    admin = new Admin(clientOptions('admin', ADMIN_PASSWORD, 'SCRAM-SHA-512'));
    await admin.createTopics([
      { name: 'orders', numPartitions: 1 },
      { name: 'bobs', numPartitions: 1 },
      { name: 'certs', numPartitions: 1 },
    ]);
    await admin.alterUserScramCredentials({
      upsertions: [
        { user: 'alice', mechanism: 'SCRAM-SHA-256', password: ALICE_PASSWORD },
        { user: 'bob', mechanism: 'SCRAM-SHA-512', password: BOB_PASSWORD, iterations: 8192 },
        { user: 'mallory', mechanism: 'SCRAM-SHA-256', password: MALLORY_PASSWORD },
      ],
    });
    await admin.createAcls([
      allow('User:alice', AclResourceType.TOPIC, 'ord', AclOperation.WRITE, AclPatternType.PREFIXED),
      allow('User:alice', AclResourceType.TOPIC, 'ord', AclOperation.READ, AclPatternType.PREFIXED),
      allow('User:alice', AclResourceType.GROUP, 'orders-app', AclOperation.READ),
      allow('User:bob', AclResourceType.TOPIC, 'bobs', AclOperation.ALL),
      allow('User:bob', AclResourceType.GROUP, 'bobs-', AclOperation.READ, AclPatternType.PREFIXED),
      allow('User:client-cert', AclResourceType.TOPIC, 'certs', AclOperation.WRITE),
      allow('User:*', AclResourceType.TOPIC, 'orders', AclOperation.DESCRIBE),
      {
        ...allow('User:mallory', AclResourceType.TOPIC, '*', AclOperation.ALL),
        permissionType: AclPermissionType.DENY,
      },
    ]);
  });

  after(async () => {
    await admin?.close();
    if (broker !== undefined) {
      assert.equal(await broker.stop(), 0);
      const log = broker.output();
      for (const secret of SECRETS) assert.ok(!log.includes(secret), 'a password appeared in the broker log');
    }
  });

  test('SCRAM credentials are listed without secrets and stored salted and hashed only', async () => {
    const listed = await admin.describeUserScramCredentials();
    assert.deepEqual(listed.map((c) => [c.user, c.mechanism, c.iterations]).sort(), [
      ['admin', 'SCRAM-SHA-512', 4096],
      ['alice', 'SCRAM-SHA-256', 4096],
      ['bob', 'SCRAM-SHA-512', 8192],
      ['mallory', 'SCRAM-SHA-256', 4096],
    ]);
    const stored = fs.readFileSync(path.join(broker.dataDir, 'scram-credentials.json'), 'utf8');
    for (const secret of SECRETS) assert.ok(!stored.includes(secret));
    const doc = JSON.parse(stored);
    assert.deepEqual(Object.keys(doc.credentials['SCRAM-SHA-256:alice']).sort(), [
      'iterations',
      'salt',
      'server_key',
      'stored_key',
    ]);
    assert.equal(
      (fs.statSync(path.join(broker.dataDir, 'scram-credentials.json')).mode & 0o777).toString(8),
      '600',
    );
    await assert.rejects(
      admin.describeUserScramCredentials(['nobody']),
      (err: KafkaProtocolError) => err.code === ErrorCode.RESOURCE_NOT_FOUND,
    );
  });

  test('kcat over SASL_SSL with SCRAM-SHA-256 writes and reads a topic its ACLs allow', async () => {
    const settings = kcatX(rdkafka('alice', ALICE_PASSWORD, 'SCRAM-SHA-256'));
    const p = await runAsync('kcat', [...settings, '-t', 'orders', '-P', '-K:'], {
      input: 'a:one\nb:two\nc:three\n',
    });
    assert.equal(p.status, 0, p.stderr);
    const c = await runAsync('kcat', [...settings, '-t', 'orders', '-C', '-e', '-q', '-f', '%k=%s\\n']);
    assert.equal(c.status, 0, c.stderr);
    assert.deepEqual(c.stdout.trim().split('\n'), ['a=one', 'b=two', 'c=three']);
    assert.equal(await endOffset('orders'), 3);
  });

  test('confluent-kafka over SASL_SSL with SCRAM-SHA-512 produces and consumes in a group', async () => {
    const bob = rdkafka('bob', BOB_PASSWORD, 'SCRAM-SHA-512');
    const produced = await python('secure_client.py', ['produce', 'bobs', '5', ...bob]);
    assert.deepEqual(produced, { delivered: [0, 1, 2, 3, 4], errors: [] });
    const consumed = await python('secure_client.py', ['consume', 'bobs', 'bobs-readers', '5', ...bob]);
    assert.deepEqual(consumed.received, ['secure-0', 'secure-1', 'secure-2', 'secure-3', 'secure-4']);
    const offsets = await admin.fetchOffsets('bobs-readers');
    assert.deepEqual(
      offsets.map((o) => [o.topic, o.offset]),
      [['bobs', 5]],
    );
  });

  test('kafka-python (SaslHandshake v0, raw tokens) authenticates with SCRAM and PLAIN; a wrong password is refused', async () => {
    const ok = await python('kafka_python_secure.py', [
      'produce',
      saslSsl,
      'orders',
      '2',
      'SASL_SSL',
      'SCRAM-SHA-256',
      'alice',
      ALICE_PASSWORD,
      certs.ca,
    ]);
    assert.deepEqual(ok, { offsets: [3, 4] });
    const acls = await python('kafka_python_secure.py', [
      'acls',
      saslSsl,
      'SASL_SSL',
      'PLAIN',
      'admin',
      ADMIN_PASSWORD,
      certs.ca,
    ]);
    assert.deepEqual(acls, {
      created: 1,
      failed: [],
      found: [['User:dave', 'READ', 'ALLOW', 'TOPIC', 'dave-', 'PREFIXED']],
      deleted: 1,
      after: 0,
    });
    const refused = await python('kafka_python_secure.py', [
      'produce',
      saslSsl,
      'orders',
      '1',
      'SASL_SSL',
      'SCRAM-SHA-256',
      'alice',
      WRONG_PASSWORD,
      certs.ca,
    ]);
    assert.ok(refused.error !== undefined, JSON.stringify(refused));
    assert.equal(await endOffset('orders'), 5);
  });

  test('a wrong password is SASL_AUTHENTICATION_FAILED for kcat, confluent-kafka and our client; nothing is written', async () => {
    const before = await endOffset('orders');
    const k = await runAsync(
      'kcat',
      [
        ...kcatX(rdkafka('alice', WRONG_PASSWORD, 'SCRAM-SHA-256')),
        '-X',
        'message.timeout.ms=5000',
        '-t',
        'orders',
        '-P',
      ],
      {
        input: 'never\n',
        timeoutMs: 20_000,
      },
    );
    assert.notEqual(k.status, 0);
    assert.match(
      k.stderr,
      /SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256/,
    );
    const py = await python('secure_client.py', [
      'produce',
      'orders',
      '1',
      ...rdkafka('alice', WRONG_PASSWORD, 'SCRAM-SHA-256'),
    ]);
    assert.deepEqual(py.delivered, []);
    assert.ok(
      py.errors.some(
        ([name, text]: [string, string]) => name === '_AUTHENTICATION' && /Authentication failed/.test(text),
      ),
      JSON.stringify(py.errors),
    );
    const ours = new Admin(clientOptions('alice', WRONG_PASSWORD, 'SCRAM-SHA-256'));
    await assert.rejects(
      ours.listTopics(),
      (err: KafkaProtocolError) => err.code === ErrorCode.SASL_AUTHENTICATION_FAILED,
    );
    await ours.close();
    const plain = new Admin(clientOptions('carol', 'not-carols', 'PLAIN'));
    await assert.rejects(plain.listTopics(), /SASL_AUTHENTICATION_FAILED: .*Invalid username or password/);
    await plain.close();
    assert.equal(await endOffset('orders'), before);
  });

  test('the SSL listener requires a client certificate the CA signed; its name is the principal the ACLs see', async () => {
    const ssl = [
      '-X',
      'security.protocol=SSL',
      '-X',
      `ssl.ca.location=${certs.ca}`,
      '-b',
      `127.0.0.1:${ports.SSL}`,
    ];
    const without = await runAsync('kcat', [...ssl, '-t', 'certs', '-P', '-X', 'message.timeout.ms=4000'], {
      input: 'no-cert\n',
      timeoutMs: 20_000,
    });
    assert.notEqual(without.status, 0);
    assert.match(without.stderr, /SSL|handshake|certificate/i);
    const rogue = await runAsync(
      'kcat',
      [
        ...ssl,
        '-X',
        `ssl.certificate.location=${certs.rogueCert}`,
        '-X',
        `ssl.key.location=${certs.rogueKey}`,
        '-t',
        'certs',
        '-P',
        '-X',
        'message.timeout.ms=4000',
      ],
      { input: 'rogue\n', timeoutMs: 20_000 },
    );
    assert.notEqual(rogue.status, 0);
    assert.equal(await endOffset('certs'), 0);
    const withCert = await runAsync(
      'kcat',
      [
        ...ssl,
        '-X',
        `ssl.certificate.location=${certs.clientCert}`,
        '-X',
        `ssl.key.location=${certs.clientKey}`,
        '-t',
        'certs',
        '-P',
      ],
      { input: 'by-certificate\n' },
    );
    assert.equal(withCert.status, 0, withCert.stderr);
    assert.equal(await endOffset('certs'), 1);
    // The same principal may not write where its ACLs do not say so.
    const elsewhere = await runAsync(
      'kcat',
      [
        ...ssl,
        '-X',
        `ssl.certificate.location=${certs.clientCert}`,
        '-X',
        `ssl.key.location=${certs.clientKey}`,
        '-t',
        'orders',
        '-P',
      ],
      { input: 'x\n', timeoutMs: 20_000 },
    );
    assert.notEqual(elsewhere.status, 0);
    assert.match(elsewhere.stderr, /Topic authorization failed/);
  });

  test('a principal without the ACL is refused with Kafka errors and nothing is written; Metadata hides what it may not describe', async () => {
    const before = await endOffset('orders');
    const mallory = rdkafka('mallory', MALLORY_PASSWORD, 'SCRAM-SHA-256');
    const produced = await python('secure_client.py', ['produce', 'orders', '2', ...mallory]);
    assert.deepEqual(produced.delivered, []);
    assert.ok(
      produced.errors.some(([name]: [string]) => name === 'TOPIC_AUTHORIZATION_FAILED'),
      JSON.stringify(produced.errors),
    );
    const consumed = await python('secure_client.py', ['consume', 'orders', 'orders-app', '1', ...mallory]);
    assert.deepEqual(consumed.received, []);
    assert.ok(
      consumed.errors.some(
        ([name]: [string]) => name === 'GROUP_AUTHORIZATION_FAILED' || name === 'TOPIC_AUTHORIZATION_FAILED',
      ),
      JSON.stringify(consumed.errors),
    );
    // Anonymous on PLAINTEXT: refused too.
    const anonymous = await runAsync('kcat', ['-b', `127.0.0.1:${ports.PLAINTEXT}`, '-t', 'orders', '-P'], {
      input: 'anon\n',
      timeoutMs: 20_000,
    });
    assert.match(anonymous.stderr, /Topic authorization failed/);
    assert.equal(await endOffset('orders'), before);
    // Listing: alice sees the topics her prefix covers; bob his; anonymous only what User:* may describe.
    const topics = async (settings: string[]) =>
      (await python('secure_client.py', ['topics', ...settings])).topics;
    assert.deepEqual(await topics(rdkafka('alice', ALICE_PASSWORD, 'SCRAM-SHA-256')), ['orders']);
    assert.deepEqual(await topics(rdkafka('bob', BOB_PASSWORD, 'SCRAM-SHA-512')), ['bobs', 'orders']);
    assert.deepEqual(await topics(mallory), []);
    assert.deepEqual(await topics([`bootstrap.servers=127.0.0.1:${ports.PLAINTEXT}`]), ['orders']);
    // Our client's admin as alice: creating topics and ACLs needs more than she has.
    const alice = new Admin(clientOptions('alice', ALICE_PASSWORD, 'SCRAM-SHA-256'));
    await assert.rejects(alice.createTopics([{ name: 'ord-new' }]), /TOPIC_AUTHORIZATION_FAILED/);
    await assert.rejects(alice.describeAcls(), /CLUSTER_AUTHORIZATION_FAILED/);
    await assert.rejects(
      alice.alterUserScramCredentials({
        upsertions: [{ user: 'alice', mechanism: 'SCRAM-SHA-512', password: 'x' }],
      }),
      /CLUSTER_AUTHORIZATION_FAILED/,
    );
    // Client quotas: DESCRIBE_CONFIGS on the cluster to read them, ALTER_CONFIGS to change them.
    const aliceQuota = { entity: { user: 'alice' }, ops: [{ key: 'producer_byte_rate', value: 1_000_000 }] };
    await assert.rejects(alice.describeClientQuotas(), /CLUSTER_AUTHORIZATION_FAILED/);
    await assert.rejects(alice.alterClientQuotas([aliceQuota]), /CLUSTER_AUTHORIZATION_FAILED/);
    await admin.alterClientQuotas([aliceQuota]);
    assert.deepEqual(
      await admin.describeClientQuotas({ components: [{ entityType: 'user', match: 'alice' }] }),
      [{ entity: { user: 'alice' }, values: { producer_byte_rate: 1_000_000 } }],
    );
    await admin.alterClientQuotas([
      { entity: { user: 'alice' }, ops: [{ key: 'producer_byte_rate', value: null }] },
    ]);
    await alice.close();
  });

  test('WRITE is not enough to choose offsets (MirrorProduce) or to delete; a refused delete reveals no topic id', async () => {
    const before = await endOffset('orders');
    const conn = await new Connection({
      host: '127.0.0.1',
      port: ports.SASL_SSL,
      ssl: { ca: fs.readFileSync(certs.ca) },
      sasl: { mechanism: 'SCRAM-SHA-256', username: 'alice', password: ALICE_PASSWORD },
    }).connect();
    try {
      const mirrored = await conn.request(MirrorProduce, {
        flow: 'rogue',
        timeoutMs: 5000,
        topics: [
          {
            name: 'orders',
            partitions: [
              {
                index: 0,
                expectedLogEndOffset: -1,
                records: encodeRecordBatch({ baseOffset: 1000, records: [{ value: Buffer.from('forged') }] }),
              },
            ],
          },
        ],
      });
      assert.equal(mirrored.topics[0].partitions[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      const deleted = await conn.request(DeleteTopics, {
        topics: [{ name: 'orders', topicId: NULL_TOPIC_ID }],
        topicNames: ['orders'],
        timeoutMs: 5000,
      });
      assert.equal(deleted.responses[0].errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      assert.equal(deleted.responses[0].topicId, NULL_TOPIC_ID);
    } finally {
      conn.close();
    }
    assert.equal(await endOffset('orders'), before);
    assert.ok((await admin.listTopics()).includes('orders'));
  });

  test('authorized operations are what the ACLs allow: a topic alice writes, a cluster she may do nothing on', async () => {
    const bit = (...ops: number[]) => ops.reduce((bits, op) => bits | (1 << op), 0);
    const as = async (user: string, password: string, mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512') =>
      new Connection({
        host: '127.0.0.1',
        port: ports.SASL_SSL,
        ssl: { ca: fs.readFileSync(certs.ca) },
        sasl: { mechanism, username: user, password },
      }).connect();
    const alice = await as('alice', ALICE_PASSWORD, 'SCRAM-SHA-256');
    const superUser = await as('admin', ADMIN_PASSWORD, 'SCRAM-SHA-512');
    try {
      const md = await alice.send(Metadata, 10, {
        topics: [{ name: 'orders', topicId: NULL_TOPIC_ID }],
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: true,
        includeTopicAuthorizedOperations: true,
      });
      assert.equal(
        md.topics[0].topicAuthorizedOperations,
        bit(AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE),
      );
      assert.equal(md.clusterAuthorizedOperations, 0);
      const plain = await alice.send(Metadata, 10, {
        topics: [{ name: 'orders', topicId: NULL_TOPIC_ID }],
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      });
      assert.equal(plain.topics[0].topicAuthorizedOperations, -2147483648, 'not asked: left out');
      const cluster = await superUser.request(DescribeCluster, { includeClusterAuthorizedOperations: true });
      assert.equal(
        cluster.clusterAuthorizedOperations,
        bit(
          AclOperation.CREATE,
          AclOperation.ALTER,
          AclOperation.DESCRIBE,
          AclOperation.CLUSTER_ACTION,
          AclOperation.DESCRIBE_CONFIGS,
          AclOperation.ALTER_CONFIGS,
          AclOperation.IDEMPOTENT_WRITE,
        ),
      );
      const groups = await alice.request(DescribeGroups, {
        groups: ['orders-app'],
        includeAuthorizedOperations: true,
      });
      assert.equal(groups.groups[0].authorizedOperations, bit(AclOperation.READ, AclOperation.DESCRIBE));
    } finally {
      alice.close();
      superUser.close();
    }
  });

  test('ACLs are listed by filter and deleted; a deleted ALLOW takes effect at once', async () => {
    const bobs = await admin.describeAcls({ principal: 'User:bob' });
    assert.equal(bobs.length, 2);
    const matching = await admin.describeAcls({
      resourceType: AclResourceType.TOPIC,
      resourceName: 'orders',
      patternType: AclPatternType.MATCH,
    });
    assert.deepEqual(matching.map((a) => [a.principal, a.resourceName, a.patternType]).sort(), [
      ['User:*', 'orders', AclPatternType.LITERAL],
      ['User:alice', 'ord', AclPatternType.PREFIXED],
      ['User:alice', 'ord', AclPatternType.PREFIXED],
      ['User:mallory', '*', AclPatternType.LITERAL],
    ]);
    await assert.rejects(
      admin.createAcls([
        {
          principal: 'alice',
          resourceType: AclResourceType.TOPIC,
          resourceName: 'x',
          operation: AclOperation.READ,
          permissionType: AclPermissionType.ALLOW,
        },
      ]),
      /INVALID_REQUEST/,
    );
    const bob = new Admin(clientOptions('bob', BOB_PASSWORD, 'SCRAM-SHA-512'));
    assert.deepEqual((await bob.listOffsets([{ topic: 'bobs', partition: 0 }], 'latest'))[0].offset, 5);
    const deleted = await admin.deleteAcls([{ principal: 'User:bob', resourceType: AclResourceType.TOPIC }]);
    assert.equal(deleted.length, 1);
    await assert.rejects(
      bob.listOffsets([{ topic: 'bobs', partition: 0 }], 'latest'),
      /TOPIC_AUTHORIZATION_FAILED/,
    );
    await bob.close();
    const persisted = JSON.parse(fs.readFileSync(path.join(broker.dataDir, 'acls.json'), 'utf8'));
    assert.equal(persisted.acls.length, 7);
  });

  test('malformed and out-of-order SASL frames close that connection only; the broker serves on', async () => {
    const frames: Buffer[][] = [
      // A Metadata request before authenticating.
      encodeRequest(Metadata, 1, 1, 'x', { topics: null }),
      // Handshake v0 for PLAIN, then a token that is not user NUL user NUL password.
      [...encodeRequest(SaslHandshake, 0, 1, 'x', { mechanism: 'PLAIN' }), frame(Buffer.from('garbage'))],
      // Handshake v1 for SCRAM, then an authenticate carrying random bytes.
      [
        ...encodeRequest(SaslHandshake, 1, 1, 'x', { mechanism: 'SCRAM-SHA-256' }),
        ...encodeRequest(SaslAuthenticate, 1, 2, 'x', { authBytes: Buffer.from([0xff, 0x00, 0x2c, 0x3d]) }),
      ],
      // SaslAuthenticate with no handshake.
      encodeRequest(SaslAuthenticate, 0, 1, 'x', { authBytes: Buffer.from('n,,n=a,r=b') }),
      // A frame far above sasl.server.max.receive.size, a negative size, a truncated handshake.
      [Buffer.from([0x05, 0xf5, 0xe1, 0x00]), Buffer.alloc(64)],
      [Buffer.from([0xff, 0xff, 0xff, 0xf0])],
      [
        Buffer.from([
          0x00, 0x00, 0x00, 0x0c, 0x00, 0x11, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x78, 0x00,
        ]),
      ],
      // An unknown mechanism.
      encodeRequest(SaslHandshake, 1, 1, 'x', { mechanism: 'GSSAPI' }),
    ];
    for (const [i, chunks] of frames.entries()) {
      const socket = tls.connect({ host: '127.0.0.1', port: ports.SASL_SSL, ca: fs.readFileSync(certs.ca) });
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.on('error', () => undefined);
      socket.resume();
      await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
      for (const c of chunks) socket.write(c);
      await Promise.race([
        closed,
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`the broker kept bad connection ${i} open`)), 10_000),
        ),
      ]);
    }
    // A plaintext client on the TLS port, and a TLS client on the plaintext port.
    const plain = net.connect({ host: '127.0.0.1', port: ports.SASL_SSL });
    plain.on('error', () => undefined);
    plain.resume();
    plain.write(Buffer.concat(encodeRequest(Metadata, 1, 1, 'x', { topics: null })));
    await new Promise<void>((resolve) => plain.on('close', () => resolve()));
    assert.deepEqual(
      (await admin.describeUserScramCredentials(['alice'])).map((c) => c.user),
      ['alice'],
    );
    assert.equal(broker.child.exitCode, null);
  });

  test('a burst of wrong passwords is refused ever more slowly, without harm; the right one still works', async () => {
    const started = Date.now();
    const attempts = Array.from({ length: 24 }, async () => {
      const t0 = Date.now();
      const conn = new Connection({
        host: '127.0.0.1',
        port: ports.SASL_SSL,
        ssl: { ca: fs.readFileSync(certs.ca) },
        sasl: { mechanism: 'SCRAM-SHA-256', username: 'alice', password: WRONG_PASSWORD },
        requestTimeoutMs: 20_000,
      });
      await assert.rejects(
        conn.connect(),
        (err: KafkaProtocolError) => err.code === ErrorCode.SASL_AUTHENTICATION_FAILED,
      );
      return Date.now() - t0;
    });
    const took = (await Promise.all(attempts)).sort((a, b) => a - b);
    // 20 ms, doubling per failure from this address up to 64 times: the slowest waited over a second.
    assert.ok(took[took.length - 1] >= 1280, `slowest refusal took ${took[took.length - 1]} ms`);
    assert.ok(Date.now() - started < 15_000);
    const alice = new Admin(clientOptions('alice', ALICE_PASSWORD, 'SCRAM-SHA-256'));
    assert.deepEqual(await alice.listTopics(), ['orders']);
    await alice.close();
    assert.match(
      broker.output(),
      /failed authentication with 127\.0\.0\.1 on listener SASL_SSL \(SCRAM-SHA-256\)/,
    );
  });
});

function frame(payload: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return Buffer.concat([size, payload]);
}

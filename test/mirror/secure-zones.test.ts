import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  AclOperation,
  AclPatternType,
  AclResourceType,
  Admin,
  Producer,
  type ClientOptions,
} from '@tributary/client';
import {
  readPartition,
  startMirrorWorker,
  until,
  writeMirrorConfig,
  type MirrorWorker,
} from '../support/mirror-process';
import { allow } from '../support/acls';
import { startRedis, type RedisProcess } from '../support/redis-process';
import { startSaslSslBroker, type SecureBroker } from '../support/secure-broker';
import { makeCertificates, type TestCertificates } from '../support/tls-certs';

const ADMIN_A = { name: 'admin-a', password: 'zone-a-admin-5d1e' };
const ADMIN_B = { name: 'admin-b', password: 'zone-b-admin-a07c' };
const MIRROR_A = { name: 'mirror-a', password: 'zone-a-mirror-3b9f' };
const MIRROR_B = { name: 'mirror-b', password: 'zone-b-mirror-c42d' };
const SECRETS = [ADMIN_A, ADMIN_B, MIRROR_A, MIRROR_B].map((u) => u.password);

/**
 * Two security zones: clusters that let in only their own SCRAM users over SASL_SSL, with
 * ACLs. The replicator crosses them with a different user (and mechanism) on each side, and
 * holds only the rights it needs: it copies what its source user may read and nothing else.
 */
describe('a mirror flow between two clusters with different credentials', { timeout: 240_000 }, () => {
  let certs: TestCertificates;
  let redis: RedisProcess;
  let a: SecureBroker;
  let b: SecureBroker;
  let worker: MirrorWorker;
  let refused: MirrorWorker | undefined;

  const client = (zone: SecureBroker, user: { name: string; password: string }): ClientOptions => ({
    bootstrapServers: zone.bootstrap,
    ssl: { ca: fs.readFileSync(certs.ca) },
    sasl: { mechanism: 'SCRAM-SHA-512', username: user.name, password: user.password },
  });
  /** kcat's settings as a zone's admin: an independent reader of each side. */
  const kcatAs = (user: { name: string; password: string }): string[] =>
    [
      'security.protocol=SASL_SSL',
      'sasl.mechanism=SCRAM-SHA-512',
      `sasl.username=${user.name}`,
      `sasl.password=${user.password}`,
      `ssl.ca.location=${certs.ca}`,
    ].flatMap((s) => ['-X', s]);

  before(async () => {
    certs = makeCertificates();
    redis = await startRedis();
    a = await startSaslSslBroker(certs, ADMIN_A);
    b = await startSaslSslBroker(certs, ADMIN_B);

    const adminA = new Admin(client(a, ADMIN_A));
    await adminA.createTopics([
      { name: 'orders', numPartitions: 2 },
      { name: 'payroll', numPartitions: 1 },
    ]);
    await adminA.alterUserScramCredentials({
      upsertions: [{ user: MIRROR_A.name, mechanism: 'SCRAM-SHA-512', password: MIRROR_A.password }],
    });
    const mirrorA = `User:${MIRROR_A.name}`;
    await adminA.createAcls([
      // reads `orders` only; `payroll` is invisible to it
      allow(mirrorA, AclResourceType.TOPIC, 'orders', AclOperation.READ),
      allow(mirrorA, AclResourceType.TOPIC, 'orders', AclOperation.DESCRIBE_CONFIGS),
      // the heartbeats it emits at the source
      allow(mirrorA, AclResourceType.TOPIC, 'heartbeats', AclOperation.ALL),
      allow(mirrorA, AclResourceType.GROUP, '*', AclOperation.DESCRIBE),
    ]);
    const producer = new Producer(client(a, ADMIN_A));
    await producer.send({
      topic: 'orders',
      messages: Array.from({ length: 200 }, (_, i) => ({
        key: `customer-${i % 17}`,
        value: `order-${i}`,
        headers: { zone: 'a' },
      })),
    });
    await producer.send({ topic: 'payroll', messages: [{ key: 'ceo', value: 'salary' }] });
    await producer.close();
    await adminA.close();

    const adminB = new Admin(client(b, ADMIN_B));
    await adminB.alterUserScramCredentials({
      upsertions: [{ user: MIRROR_B.name, mechanism: 'SCRAM-SHA-256', password: MIRROR_B.password }],
    });
    const mirrorB = `User:${MIRROR_B.name}`;
    await adminB.createAcls([
      allow(mirrorB, AclResourceType.TOPIC, 'a.', AclOperation.ALL, AclPatternType.PREFIXED),
      allow(mirrorB, AclResourceType.TOPIC, 'heartbeats', AclOperation.ALL),
    ]);
    await adminB.close();

    worker = await startMirrorWorker(writeMirrorConfig(mirrorConfig('secure-zones', MIRROR_B.password)));
  });

  /** The replicator's config: its own user on each side, SCRAM-SHA-512 into A and SCRAM-SHA-256 into B. */
  const mirrorConfig = (namespace: string, passwordB: string) => ({
    redis: redis.url,
    namespace,
    clusters: {
      a: {
        'bootstrap.servers': a.bootstrap,
        'security.protocol': 'SASL_SSL',
        'sasl.mechanism': 'SCRAM-SHA-512',
        'sasl.username': MIRROR_A.name,
        'sasl.password': MIRROR_A.password,
        'ssl.ca.location': certs.ca,
      },
      b: {
        'bootstrap.servers': b.bootstrap,
        'security.protocol': 'SASL_SSL',
        'sasl.mechanism': 'SCRAM-SHA-256',
        'sasl.username': MIRROR_B.name,
        'sasl.password': passwordB,
        'ssl.ca.location': certs.ca,
      },
    },
    flows: [
      {
        source: 'a',
        target: 'b',
        'refresh.topics.interval.seconds': 1,
        'emit.checkpoints.enabled': false,
      },
    ],
  });

  after(async () => {
    const logs = [
      worker?.output() ?? '',
      refused?.output() ?? '',
      a?.broker.output() ?? '',
      b?.broker.output() ?? '',
    ];
    await worker?.stop();
    await refused?.stop();
    await a?.broker.stop();
    await b?.broker.stop();
    await redis?.stop();
    for (const log of logs)
      for (const secret of SECRETS) assert.ok(!log.includes(secret), 'a password appeared in a log');
  });

  test('every record the source user may read arrives once, offsets kept; what it may not read never leaves its zone', async () => {
    const source = await Promise.all(
      [0, 1].map((p) => readPartition(a.bootstrap, 'orders', p, kcatAs(ADMIN_A))),
    );
    assert.equal(source[0].length + source[1].length, 200);
    await until(
      'zone B has every order',
      async () => {
        try {
          const got = await Promise.all(
            [0, 1].map((p) => readPartition(b.bootstrap, 'a.orders', p, kcatAs(ADMIN_B))),
          );
          return got[0].length + got[1].length === 200;
        } catch {
          return false;
        }
      },
      90_000,
      500,
    );
    for (const p of [0, 1]) {
      const copied = await readPartition(b.bootstrap, 'a.orders', p, kcatAs(ADMIN_B));
      assert.deepEqual(
        copied.map((r) => [r.offset, r.key, r.value, r.timestamp, r.headers]),
        source[p].map((r) => [r.offset, r.key, r.value, r.timestamp, r.headers]),
      );
    }
    const adminB = new Admin(client(b, ADMIN_B));
    try {
      const topics = await adminB.listTopics();
      assert.ok(!topics.includes('a.payroll'), `payroll must not be mirrored: ${topics.join(', ')}`);
    } finally {
      await adminB.close();
    }
  });

  test('a replicator with a wrong password for the target says so by cluster and writes nothing there', async () => {
    const adminB = new Admin(client(b, ADMIN_B));
    try {
      const endsBefore = await adminB.listOffsets(
        [0, 1].map((partition) => ({ topic: 'a.orders', partition })),
        'latest',
      );
      const wrong = 'not-the-zone-b-password';
      const doc = mirrorConfig('secure-zones-wrong', wrong);
      refused = await startMirrorWorker(writeMirrorConfig(doc));
      await until(
        'the worker reports the refused login',
        () => /flow a->b: target b: SASL_AUTHENTICATION_FAILED/.test(refused?.output() ?? ''),
        30_000,
      );
      assert.ok(!refused.output().includes(wrong), 'the wrong password was printed');
      const endsAfter = await adminB.listOffsets(
        [0, 1].map((partition) => ({ topic: 'a.orders', partition })),
        'latest',
      );
      assert.deepEqual(endsAfter, endsBefore);
    } finally {
      await adminB.close();
    }
  });
});

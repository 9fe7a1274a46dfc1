import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  AclOperation,
  AclPatternType,
  AclResourceType,
  Admin,
  ConnectionError,
  Consumer,
  ErrorCode,
  KafkaProtocolError,
  Producer,
  type ClientOptions,
} from '@tributary/client';
import { allow } from '../support/acls';
import { startCluster, type TestCluster } from '../support/cluster-process';
import { until } from '../support/mirror-process';
import { makeCertificates, type TestCertificates } from '../support/tls-certs';

const ADMIN_PASSWORD = 'cluster-admin-8e21';
const ALICE_PASSWORD = 'cluster-alice-47c0';

/**
 * Three brokers on one Redis that talk to each other only over mutual TLS (the inter-broker
 * listener requires the brokers' certificates) and to clients only over SASL_SSL. Users and
 * ACLs made through one broker hold on every broker; replication runs over the SSL listener.
 */
describe(
  'a secured three-broker cluster: SSL between brokers, SASL_SSL for clients',
  { timeout: 180_000 },
  () => {
    let certs: TestCertificates;
    let cluster: TestCluster;
    /** Each broker's SASL_SSL address, by node id - 1. */
    let saslSsl: string[];

    const as = (user: string, password: string, bootstrap: string): ClientOptions => ({
      bootstrapServers: bootstrap,
      ssl: { ca: fs.readFileSync(certs.ca) },
      sasl: { mechanism: 'SCRAM-SHA-512', username: user, password },
    });

    before(async () => {
      certs = makeCertificates();
      cluster = await startCluster({
        brokers: 3,
        settings: [
          'listeners=SASL_SSL://127.0.0.1:0,SSL://127.0.0.1:0',
          'inter.broker.listener.name=SSL',
          `ssl.key.location=${certs.brokerKey}`,
          `ssl.certificate.location=${certs.brokerCert}`,
          `ssl.ca.location=${certs.ca}`,
          'listener.name.ssl.ssl.client.auth=required',
          'sasl.enabled.mechanisms=SCRAM-SHA-512',
          `sasl.scram.bootstrap.users=SCRAM-SHA-512=[name=admin,password=${ADMIN_PASSWORD}]`,
          'authorizer.class.name=kafka.security.authorizer.AclAuthorizer',
          'super.users=User:CN=broker,O=Tributary;User:admin',
          'auto.create.topics.enable=false',
        ],
      });
      await until(
        'every broker’s listeners',
        () => cluster.nodes.every((n) => n.process.listenerPorts().SASL_SSL !== undefined),
        10_000,
        50,
      );
      saslSsl = cluster.nodes.map((n) => `127.0.0.1:${n.process.listenerPorts().SASL_SSL}`);
    });

    after(async () => {
      const logs = cluster?.nodes.map((n) => n.process.output()) ?? [];
      await cluster?.stop();
      for (const log of logs)
        for (const secret of [ADMIN_PASSWORD, ALICE_PASSWORD])
          assert.ok(!log.includes(secret), 'a password appeared in a broker log');
    });

    test('a user and ACLs made through one broker let that user produce acks=all through another and read from a third', async () => {
      const admin = new Admin(as('admin', ADMIN_PASSWORD, saslSsl[0]));
      try {
        await admin.createTopics([
          { name: 'ledger', numPartitions: 3, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } },
        ]);
        await admin.alterUserScramCredentials({
          upsertions: [{ user: 'alice', mechanism: 'SCRAM-SHA-512', password: ALICE_PASSWORD }],
        });
        await admin.createAcls([
          allow('User:alice', AclResourceType.TOPIC, 'ledger', AclOperation.WRITE),
          allow('User:alice', AclResourceType.TOPIC, 'ledger', AclOperation.READ),
          allow('User:alice', AclResourceType.GROUP, 'ledger-', AclOperation.READ, AclPatternType.PREFIXED),
        ]);
        // the ISR of every partition is all three: the followers fetch over the SSL listener
        await until(
          'full ISRs',
          async () => {
            const d = await admin.describeTopics(['ledger']);
            return d[0].partitions.every((p) => p.isr.length === 3);
          },
          30_000,
        );
      } finally {
        await admin.close();
      }

      await until(
        'alice’s credential and ACLs reach every broker (announced through Redis)',
        async () => {
          for (const bootstrap of saslSsl) {
            const probe = new Admin({ ...as('alice', ALICE_PASSWORD, bootstrap), retries: 0 });
            try {
              if (!(await probe.listTopics()).includes('ledger')) return false;
            } catch {
              return false;
            } finally {
              await probe.close();
            }
          }
          return true;
        },
        15_000,
      );
      const producer = new Producer({ ...as('alice', ALICE_PASSWORD, saslSsl[1]), acks: -1 });
      const messages = Array.from({ length: 300 }, (_, i) => ({ key: `k${i % 30}`, value: `entry-${i}` }));
      try {
        for (let i = 0; i < messages.length; i += 50)
          await producer.send({ topic: 'ledger', messages: messages.slice(i, i + 50) });
      } finally {
        await producer.close();
      }

      const consumer = new Consumer({
        ...as('alice', ALICE_PASSWORD, saslSsl[2]),
        groupId: 'ledger-audit',
        autoOffsetReset: 'earliest',
      });
      const seen: string[] = [];
      const giveUp = setTimeout(() => void consumer.stop(), 60_000);
      try {
        consumer.subscribe(['ledger']);
        await consumer.run({
          eachMessage: (m) => {
            seen.push(m.value?.toString() ?? '');
            if (seen.length === messages.length) void consumer.stop();
          },
        });
      } finally {
        clearTimeout(giveUp);
        await consumer.close();
      }
      assert.deepEqual([...seen].sort(), messages.map((m) => m.value).sort());
    });

    test('a client without a broker certificate cannot use the inter-broker listener, and alice may not create topics', async () => {
      const ssl = cluster.nodes[0].process.listenerPorts().SSL;
      const anonymous = new Admin({
        bootstrapServers: `127.0.0.1:${ssl}`,
        ssl: { ca: fs.readFileSync(certs.ca) },
        retries: 0,
        connectTimeoutMs: 3000,
      });
      await assert.rejects(anonymous.listTopics(), (err: Error) => err instanceof ConnectionError);
      await anonymous.close();

      const alice = new Admin({ ...as('alice', ALICE_PASSWORD, saslSsl[2]), retries: 0 });
      try {
        await assert.rejects(
          alice.createTopics([{ name: 'alices-own', numPartitions: 1 }]),
          (err: KafkaProtocolError) => err.code === ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        );
      } finally {
        await alice.close();
      }
      const admin = new Admin(as('admin', ADMIN_PASSWORD, saslSsl[0]));
      try {
        assert.ok(!(await admin.listTopics()).includes('alices-own'));
      } finally {
        await admin.close();
      }
    });
  },
);

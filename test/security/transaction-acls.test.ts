import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Admin, Connection } from '@tributary/client';
import {
  AclOperation,
  AclResourceType,
  AddOffsetsToTxn,
  AddPartitionsToTxn,
  DescribeTransactions,
  EndTxn,
  ErrorCode,
  FindCoordinator,
  InitProducerId,
  ListTransactions,
  TxnOffsetCommit,
} from '@tributary/protocol';
import { allow } from '../support/acls';
import { startBroker, type BrokerProcess } from '../support/broker-process';
import { until } from '../support/mirror-process';

/**
 * The transaction APIs' ACLs, as Kafka checks them: WRITE on the transactional id to use it,
 * DESCRIBE to find its coordinator and see it, WRITE on the topics it adds, READ on the group
 * whose offsets it commits, CLUSTER_ACTION for brokers' AddPartitionsToTxn. Users log in with
 * SASL PLAIN; `admin` is a super user.
 */
describe('transaction ACLs', () => {
  let broker: BrokerProcess;
  let sasl: number;
  const conns: Connection[] = [];

  const connect = async (username: string) => {
    const conn = await new Connection({
      host: '127.0.0.1',
      port: sasl,
      sasl: { mechanism: 'PLAIN', username, password: `${username}-secret` },
    }).connect();
    conns.push(conn);
    return conn;
  };

  before(async () => {
    broker = await startBroker({
      extraArgs: [
        '--set',
        'listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
        '--set',
        'sasl.enabled.mechanisms=PLAIN',
        '--set',
        'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ' +
          'user_admin="admin-secret" user_alice="alice-secret" user_eve="eve-secret";',
        '--set',
        'authorizer.class.name=kafka.security.authorizer.AclAuthorizer',
        '--set',
        'super.users=User:admin',
        '--set',
        'transaction.state.log.num.partitions=2',
        '--set',
        'offsets.topic.num.partitions=2',
      ],
    });
    await until('two listeners', () => Object.keys(broker.listenerPorts()).length === 2, 10_000, 50);
    sasl = broker.listenerPorts().SASL_PLAINTEXT;
    const admin = new Admin({
      bootstrapServers: `127.0.0.1:${sasl}`,
      sasl: { mechanism: 'PLAIN', username: 'admin', password: 'admin-secret' },
    });
    try {
      await admin.createTopics([
        { name: 'alices', numPartitions: 1 },
        { name: 'secret', numPartitions: 1 },
      ]);
      await admin.createAcls([
        allow('User:alice', AclResourceType.TRANSACTIONAL_ID, 'alice-txn', AclOperation.WRITE),
        allow('User:alice', AclResourceType.TRANSACTIONAL_ID, 'alice-txn', AclOperation.DESCRIBE),
        allow('User:alice', AclResourceType.TOPIC, 'alices', AclOperation.WRITE),
        allow('User:alice', AclResourceType.GROUP, 'alice-group', AclOperation.READ),
        allow('User:alice', AclResourceType.TOPIC, 'alices', AclOperation.READ),
        // eve may see that alice-txn exists, nothing more
        allow('User:eve', AclResourceType.TRANSACTIONAL_ID, 'alice-txn', AclOperation.DESCRIBE),
      ]);
    } finally {
      await admin.close();
    }
  });

  after(async () => {
    for (const c of conns) c.close();
    assert.equal(await broker.stop(), 0);
  });

  test('a transactional id needs WRITE to be used and DESCRIBE to be found', async () => {
    const alice = await connect('alice');
    const eve = await connect('eve');
    const find = async (conn: Connection, key: string) =>
      (await conn.send(FindCoordinator, 3, { key, keyType: 1 })).errorCode;
    assert.equal(await find(alice, 'alice-txn'), ErrorCode.NONE);
    assert.equal(await find(eve, 'alice-txn'), ErrorCode.NONE);
    assert.equal(await find(alice, 'other-txn'), ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    const init = (conn: Connection, transactionalId: string) =>
      conn.send(InitProducerId, 4, { transactionalId, transactionTimeoutMs: 60_000 });
    assert.equal((await init(eve, 'alice-txn')).errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    const p = await init(alice, 'alice-txn');
    assert.equal(p.errorCode, ErrorCode.NONE);
    const ids = { producerId: p.producerId, producerEpoch: p.producerEpoch };

    const add = (conn: Connection, topics: { name: string; partitions: number[] }[]) =>
      conn
        .send(AddPartitionsToTxn, 3, {
          v3AndBelowTransactionalId: 'alice-txn',
          v3AndBelowProducerId: ids.producerId,
          v3AndBelowProducerEpoch: ids.producerEpoch,
          v3AndBelowTopics: topics,
        })
        .then((r) => r.resultsByTopicV3AndBelow.map((t) => t.resultsByPartition[0].partitionErrorCode));
    assert.deepEqual(await add(eve, [{ name: 'alices', partitions: [0] }]), [
      ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    ]);
    // One topic it may not write fails the request; the others are not attempted.
    assert.deepEqual(
      await add(alice, [
        { name: 'alices', partitions: [0] },
        { name: 'secret', partitions: [0] },
      ]),
      [ErrorCode.OPERATION_NOT_ATTEMPTED, ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    );
    assert.deepEqual(await add(alice, [{ name: 'alices', partitions: [0] }]), [ErrorCode.NONE]);

    const addOffsets = async (conn: Connection, groupId: string) =>
      (await conn.send(AddOffsetsToTxn, 3, { transactionalId: 'alice-txn', ...ids, groupId })).errorCode;
    assert.equal(await addOffsets(eve, 'alice-group'), ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    assert.equal(await addOffsets(alice, 'bobs-group'), ErrorCode.GROUP_AUTHORIZATION_FAILED);
    assert.equal(await addOffsets(alice, 'alice-group'), ErrorCode.NONE);
    const commitOffsets = async (conn: Connection, groupId: string, topic: string) =>
      (
        await conn.send(TxnOffsetCommit, 3, {
          transactionalId: 'alice-txn',
          groupId,
          ...ids,
          topics: [
            { name: topic, partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: null }] },
          ],
        })
      ).topics[0].partitions[0].errorCode;
    assert.equal(
      await commitOffsets(eve, 'alice-group', 'alices'),
      ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    );
    assert.equal(await commitOffsets(alice, 'bobs-group', 'alices'), ErrorCode.GROUP_AUTHORIZATION_FAILED);
    assert.equal(await commitOffsets(alice, 'alice-group', 'secret'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    assert.equal(await commitOffsets(alice, 'alice-group', 'alices'), ErrorCode.NONE);

    const end = async (conn: Connection) =>
      (await conn.send(EndTxn, 3, { transactionalId: 'alice-txn', ...ids, committed: true })).errorCode;
    assert.equal(await end(eve), ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    assert.equal(await end(alice), ErrorCode.NONE);
  });

  test('DescribeTransactions and ListTransactions show only what the principal may describe', async () => {
    const alice = await connect('alice');
    const eve = await connect('eve');
    const admin = await connect('admin');
    const p = await admin.send(InitProducerId, 4, {
      transactionalId: 'admins-txn',
      transactionTimeoutMs: 60_000,
    });
    assert.equal(p.errorCode, ErrorCode.NONE);
    const listed = async (conn: Connection) =>
      (await conn.send(ListTransactions, 1, { stateFilters: [], producerIdFilters: [] })).transactionStates
        .map((t) => t.transactionalId)
        .sort();
    assert.deepEqual(await listed(admin), ['admins-txn', 'alice-txn']);
    assert.deepEqual(await listed(eve), ['alice-txn']);
    const describe = async (conn: Connection) =>
      (
        await conn.send(DescribeTransactions, 0, { transactionalIds: ['alice-txn', 'admins-txn'] })
      ).transactionStates.map((t) => t.errorCode);
    assert.deepEqual(await describe(alice), [
      ErrorCode.NONE,
      ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    ]);
    assert.deepEqual(await describe(admin), [ErrorCode.NONE, ErrorCode.NONE]);
  });

  test("brokers' AddPartitionsToTxn (v4) needs CLUSTER_ACTION", async () => {
    const alice = await connect('alice');
    const request = {
      transactions: [
        { transactionalId: 'alice-txn', producerId: 1, producerEpoch: 0, verifyOnly: true, topics: [] },
      ],
    };
    assert.equal(
      (await alice.send(AddPartitionsToTxn, 4, request)).errorCode,
      ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
    );
    const admin = await connect('admin');
    const r = await admin.send(AddPartitionsToTxn, 4, request);
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.equal(r.resultsByTransaction[0].transactionalId, 'alice-txn');
  });
});

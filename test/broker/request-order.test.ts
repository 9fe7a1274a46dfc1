import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Admin, Connection } from '@tributary/client';
import { Fetch, Metadata } from '@tributary/protocol';
import { startBroker, type BrokerProcess } from '../support/broker-process';

/**
 * Kafka handles one request of a connection at a time. A Metadata request pipelined behind a
 * long-polling fetch is answered with the state after that fetch's answer, not the state when
 * it arrived: clients (librdkafka) take the later answer as the fresher one.
 */
let broker: BrokerProcess;
before(async () => {
  broker = await startBroker();
});
after(async () => {
  await broker.stop();
});

test('a Metadata request behind a long-polling fetch describes the cluster as it is when the fetch is answered', async () => {
  const admin = new Admin({ bootstrapServers: broker.bootstrap });
  await admin.createTopics([{ name: 'quiet', numPartitions: 1, replicationFactor: 1 }]);
  const conn = new Connection({ host: '127.0.0.1', port: broker.port, requestTimeoutMs: 10_000 });
  await conn.connect();
  try {
    const fetchSent = Date.now();
    const fetch = conn.request(Fetch, {
      replicaId: -1,
      maxWaitMs: 2000,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: 'quiet',
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: -1,
              fetchOffset: 0,
              lastFetchedEpoch: -1,
              logStartOffset: -1,
              partitionMaxBytes: 1 << 20,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    });
    const metadata = conn.request(Metadata, {
      topics: null,
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    // Created while the fetch waits, after the Metadata request reached the broker.
    await admin.createTopics([{ name: 'later', numPartitions: 1, replicationFactor: 1 }]);
    const createdAt = Date.now();
    const [, answer] = await Promise.all([fetch, metadata]);
    assert.ok(
      createdAt - fetchSent < 2000,
      `the topic was created while the fetch waited (${createdAt - fetchSent} ms)`,
    );
    assert.deepEqual(
      answer.topics.map((t) => t.name).sort(),
      ['later', 'quiet'],
      'the answer was made after the fetch was answered',
    );
  } finally {
    conn.close();
    await admin.close();
  }
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Consumer, Producer } from '@tributary/client';
import { startConsole, type RunningConsole } from '@tributary/console';
import { PYTHON, PYTHON_DIR, runAsync, startBroker, type BrokerProcess } from '../support/broker-process';
import { apiClient, closedPort, cluster, eventually } from './console-support';

// Two single-broker clusters, east and west, seen through one console: every endpoint,
// good requests and bad ones, against real broker processes.
describe('console REST API', () => {
  let east: BrokerProcess;
  let west: BrokerProcess;
  let console_: RunningConsole;
  let api: ReturnType<typeof apiClient>;
  const fast = ['--set', 'group.initial.rebalance.delay.ms=0'];

  before(async () => {
    [east, west] = await Promise.all([
      startBroker({ extraArgs: fast }),
      startBroker({ extraArgs: [...fast, '--set', 'broker.rack=rack-w'] }),
    ]);
    console_ = await startConsole({
      clusters: [cluster('east', east.bootstrap, 'dc1'), cluster('west', west.bootstrap, 'dc2')],
      host: '127.0.0.1',
      port: 0,
      logLevels: ['error'],
    });
    api = apiClient(console_.url);
  });

  after(async () => {
    await console_?.close();
    await Promise.all([east?.stop(), west?.stop()]);
  });

  test('health and readiness', async () => {
    const health = await api('GET', '/api/health');
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    const ready = await api('GET', '/api/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, {
      status: 'ready',
      clusters: [
        { alias: 'east', reachable: true, error: null },
        { alias: 'west', reachable: true, error: null },
      ],
    });
  });

  test('clusters and brokers: every configured cluster, its controller, rack and liveness', async () => {
    const list = await api('GET', '/api/clusters');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.items.map((c: { alias: string; reachable: boolean; datacenter: string }) => [
        c.alias,
        c.reachable,
        c.datacenter,
      ]),
      [
        ['east', true, 'dc1'],
        ['west', true, 'dc2'],
      ],
    );
    assert.notEqual(list.body.items[0].clusterId, list.body.items[1].clusterId);
    const brokers = await api('GET', '/api/clusters/west/brokers');
    assert.equal(brokers.status, 200);
    assert.deepEqual(brokers.body.items, [
      { nodeId: 1, host: '127.0.0.1', port: west.port, rack: 'rack-w', isController: true, alive: true },
    ]);
    const configs = await api('GET', '/api/clusters/west/brokers/1/configs');
    assert.equal(configs.status, 200);
    const rack = configs.body.items.find((c: { name: string }) => c.name === 'broker.rack');
    assert.equal(rack.value, 'rack-w');
    assert.equal(rack.source, 'STATIC_BROKER_CONFIG');
    assert.equal((await api('GET', '/api/clusters/west/brokers/7/configs')).status, 404);
    const bad = await api('GET', '/api/clusters/west/brokers/x/configs');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.message, 'path parameter nodeId must be an integer >= 0, got "x"');
    const unknown = await api('GET', '/api/clusters/north');
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body, {
      statusCode: 404,
      error: 'Not Found',
      message: 'cluster "north" is not configured in this console (configured: east, west)',
    });
  });

  test('topics: create, list with paging, describe, grow, delete, each cluster on its own', async () => {
    const created = await api('POST', '/api/clusters/east/topics', {
      name: 'orders',
      partitions: 3,
      configs: { 'retention.ms': '86400000' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.name, 'orders');
    assert.deepEqual(
      created.body.partitions.map((p: Record<string, unknown>) => [
        p.partition,
        p.leader,
        p.replicas,
        p.isr,
        p.logEndOffset,
      ]),
      [
        [0, 1, [1], [1], 0],
        [1, 1, [1], [1], 0],
        [2, 1, [1], [1], 0],
      ],
    );
    for (const name of ['audit', 'billing', 'clicks']) {
      assert.equal((await api('POST', '/api/clusters/east/topics', { name })).status, 201);
    }
    assert.equal((await api('POST', '/api/clusters/west/topics', { name: 'west-only' })).status, 201);

    const first = await api('GET', '/api/clusters/east/topics?limit=2');
    assert.equal(first.status, 200);
    assert.deepEqual(
      {
        names: first.body.items.map((t: { name: string }) => t.name),
        total: first.body.total,
        next: first.body.nextOffset,
      },
      { names: ['audit', 'billing'], total: 4, next: 2 },
    );
    const second = await api('GET', '/api/clusters/east/topics?limit=2&offset=2');
    assert.deepEqual(
      second.body.items.map((t: { name: string }) => t.name),
      ['clicks', 'orders'],
    );
    assert.equal(second.body.nextOffset, null);
    const search = await api('GET', '/api/clusters/east/topics?q=ORD');
    assert.deepEqual(
      search.body.items.map((t: { name: string }) => t.name),
      ['orders'],
    );
    const west_ = await api('GET', '/api/clusters/west/topics');
    assert.deepEqual(
      west_.body.items.map((t: { name: string }) => t.name),
      ['west-only'],
    );

    const again = await api('POST', '/api/clusters/east/topics', { name: 'orders' });
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'Conflict');
    assert.equal(again.body.details.kafkaError, 'TOPIC_ALREADY_EXISTS');
    assert.match(again.body.message, /^TOPIC_ALREADY_EXISTS: creating topic orders: /);

    const grown = await api('POST', '/api/clusters/east/topics/clicks/partitions', { count: 4 });
    assert.equal(grown.status, 200);
    assert.equal(grown.body.partitions.length, 4);
    const shrink = await api('POST', '/api/clusters/east/topics/clicks/partitions', { count: 2 });
    assert.equal(shrink.status, 400);
    assert.equal(
      shrink.body.message,
      'body.count must be more than the 4 partitions topic "clicks" has, got 2',
    );

    assert.equal((await api('DELETE', '/api/clusters/east/topics/clicks')).status, 204);
    const gone = await api('GET', '/api/clusters/east/topics/clicks');
    assert.equal(gone.status, 404);
    assert.equal(gone.body.message, 'topic "clicks" does not exist in cluster east');
    const deleteAgain = await api('DELETE', '/api/clusters/east/topics/clicks');
    assert.equal(deleteAgain.status, 404);
    assert.equal(deleteAgain.body.details.kafkaError, 'UNKNOWN_TOPIC_OR_PARTITION');
  });

  test('bad requests name the field and what is wrong', async () => {
    const r = await api('POST', '/api/clusters/east/topics', {
      name: 'bad name',
      partitions: 0,
      replicas: 1,
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'Bad Request');
    assert.equal(
      r.body.message,
      'body.replicas is not a known field (known: name, partitions, replicationFactor, configs); ' +
        'body.name must be 1 to 249 letters, digits, ".", "_" or "-" (and not "." or ".."), got "bad name"; ' +
        'body.partitions must be an integer from 1 to 100000, got 0',
    );
    assert.deepEqual(r.body.details.issues[2], {
      location: 'body',
      field: 'partitions',
      problem: 'must be an integer from 1 to 100000, got 0',
    });
    const cases: [string, string, unknown, string][] = [
      ['POST', '/api/clusters/east/topics', {}, 'body.name is required'],
      [
        'POST',
        '/api/clusters/east/topics',
        undefined,
        'the request body is required (a JSON object, Content-Type: application/json)',
      ],
      ['POST', '/api/clusters/east/topics', [1], 'the request body must be an object, got an array'],
      [
        'POST',
        '/api/clusters/east/topics',
        { name: 'x', partitions: '3' },
        'body.partitions must be an integer from 1 to 100000, got "3"',
      ],
      [
        'POST',
        '/api/clusters/east/topics',
        { name: 'x', configs: { 'retention.ms': 5 } },
        'body.configs.retention.ms must be a string, got 5',
      ],
      [
        'GET',
        '/api/clusters/east/topics?limit=0',
        undefined,
        'query parameter limit must be an integer from 1 to 1000, got 0',
      ],
      [
        'GET',
        '/api/clusters/east/topics?limit=1&limit=2',
        undefined,
        'query parameter limit is given more than once',
      ],
      [
        'GET',
        '/api/clusters/east/topics?sort=name',
        undefined,
        'query parameter sort is not a known field (known: limit, offset, q, internal)',
      ],
      [
        'GET',
        '/api/clusters/east/topics?internal=yes',
        undefined,
        'query parameter internal must be true or false, got "yes"',
      ],
      [
        'GET',
        '/api/clusters/east/topics/orders/partitions/-1/records',
        undefined,
        'path parameter partition must be an integer from 0 to 100000, got -1',
      ],
      [
        'PATCH',
        '/api/clusters/east/topics/orders/configs',
        {},
        'the request body must set or delete at least one config (body.set, body.delete)',
      ],
      [
        'POST',
        '/api/clusters/east/groups/g/reset-offsets',
        { to: 'yesterday' },
        'body.to must be one of earliest, latest, timestamp, offset, checkpoints, got "yesterday"',
      ],
      [
        'POST',
        '/api/clusters/east/groups/g/reset-offsets',
        { to: 'timestamp' },
        'body.timestamp is required when body.to is timestamp',
      ],
      [
        'POST',
        '/api/clusters/east/groups/g/reset-offsets',
        { to: 'timestamp', timestamp: 'tuesday' },
        'body.timestamp must be milliseconds since the epoch or an ISO-8601 date-time (2024-05-01T12:00:00Z), got "tuesday"',
      ],
      [
        'POST',
        '/api/flows/f/throttle',
        { recordsPerSecond: -5, bytesPerSecond: null },
        'body.recordsPerSecond must be a number > 0, got -5',
      ],
    ];
    for (const [method, path, body, message] of cases) {
      const res = await api(method, path, body);
      assert.equal(res.status, 400, `${method} ${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.message, message, `${method} ${path}`);
      assert.deepEqual(Object.keys(res.body).slice(0, 3), ['statusCode', 'error', 'message']);
    }
    const malformed = await api('POST', '/api/clusters/east/topics', '{"name": ');
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.message, /^the request body is not valid JSON: /);
    const huge = await api('POST', '/api/clusters/east/topics', {
      name: 'x',
      configs: { a: 'y'.repeat(200000) },
    });
    assert.deepEqual(huge.body, {
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'the request body is larger than the 102400 bytes the console accepts',
    });
    const noRoute = await api('GET', '/api/clusters/east/nothing');
    assert.deepEqual(noRoute.body, {
      statusCode: 404,
      error: 'Not Found',
      message: 'no route for GET /api/clusters/east/nothing; see /docs for the API',
    });
  });

  test('topic configs: read with sources, set and remove overrides, invalid values refused by the broker', async () => {
    const before_ = await api('GET', '/api/clusters/east/topics/orders/configs');
    assert.equal(before_.status, 200);
    type Config = { name: string; value: string | null; source: string };
    const byName = (items: Config[], name: string): Config => {
      const found = items.find((c) => c.name === name);
      assert.ok(found, `config ${name} is listed`);
      return found;
    };
    assert.deepEqual(byName(before_.body.items, 'retention.ms'), {
      name: 'retention.ms',
      value: '86400000',
      source: 'DYNAMIC_TOPIC_CONFIG',
      isDefault: false,
      readOnly: false,
      sensitive: false,
    });
    assert.equal(byName(before_.body.items, 'cleanup.policy').source, 'DEFAULT_CONFIG');
    const altered = await api('PATCH', '/api/clusters/east/topics/orders/configs', {
      set: { 'cleanup.policy': 'compact,delete', 'max.message.bytes': '2000000' },
      delete: ['retention.ms'],
    });
    assert.equal(altered.status, 200);
    assert.equal(byName(altered.body.items, 'cleanup.policy').value, 'compact,delete');
    assert.equal(byName(altered.body.items, 'max.message.bytes').value, '2000000');
    assert.equal(byName(altered.body.items, 'retention.ms').source, 'DEFAULT_CONFIG');
    const invalid = await api('PATCH', '/api/clusters/east/topics/orders/configs', {
      set: { 'retention.ms': 'soon' },
    });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.details.kafkaError, 'INVALID_CONFIG');
    assert.match(invalid.body.message, /retention\.ms/);
    const missing = await api('GET', '/api/clusters/east/topics/nope/configs');
    assert.equal(missing.status, 404);
    const reset = await api('PATCH', '/api/clusters/east/topics/orders/configs', {
      delete: ['cleanup.policy', 'max.message.bytes'],
    });
    assert.equal(reset.status, 200);
  });

  test('records: a partition read from an offset with keys, values, headers; pages; binary as base64', async () => {
    const producer = new Producer({ bootstrapServers: east.bootstrap });
    await producer.send({
      topic: 'audit',
      messages: [
        ...Array.from({ length: 12 }, (_, i) => ({
          key: `user-${i}`,
          value: JSON.stringify({ n: i }),
          headers: [{ key: 'trace', value: `t${i}` }],
          partition: 0,
          timestamp: 1700000000000 + i,
        })),
        { key: null, value: Buffer.from([0, 1, 2, 255]), partition: 0, timestamp: 1700000000100 },
      ],
    });
    await producer.close();
    const page1 = await api('GET', '/api/clusters/east/topics/audit/partitions/0/records?offset=0&limit=5');
    assert.equal(page1.status, 200);
    assert.equal(page1.body.logEndOffset, 13);
    assert.equal(page1.body.nextOffset, 5);
    assert.deepEqual(page1.body.records[1], {
      offset: 1,
      timestamp: 1700000000001,
      time: '2023-11-14T22:13:20.001Z',
      key: 'user-1',
      keyEncoding: 'utf8',
      value: '{"n":1}',
      valueEncoding: 'utf8',
      size: 13,
      headers: [{ key: 'trace', value: 't1', valueEncoding: 'utf8' }],
    });
    const page3 = await api('GET', '/api/clusters/east/topics/audit/partitions/0/records?offset=10&limit=5');
    assert.deepEqual(
      page3.body.records.map((r: { offset: number }) => r.offset),
      [10, 11, 12],
    );
    assert.equal(page3.body.nextOffset, 13);
    const binary = page3.body.records[2];
    assert.deepEqual(
      [binary.key, binary.keyEncoding, binary.value, binary.valueEncoding],
      [null, null, 'AAEC/w==', 'base64'],
    );
    const past = await api('GET', '/api/clusters/east/topics/audit/partitions/0/records?offset=50');
    assert.deepEqual([past.status, past.body.records, past.body.nextOffset], [200, [], 50]);
    const fromStart = await api('GET', '/api/clusters/east/topics/audit/partitions/0/records?limit=1');
    assert.equal(fromStart.body.records[0].offset, 0);
    const noPartition = await api('GET', '/api/clusters/east/topics/audit/partitions/3/records');
    assert.equal(noPartition.status, 404);
    assert.equal(noPartition.body.message, 'partition 3 does not exist: topic "audit" has partitions 0 to 0');
    const topic = await api('GET', '/api/clusters/east/topics/audit');
    assert.deepEqual(
      [topic.body.partitions[0].logStartOffset, topic.body.partitions[0].logEndOffset, topic.body.records],
      [0, 13, 13],
    );
  });

  test('groups: lag per partition as confluent-kafka reports it, 409 while active, resets when empty', async () => {
    const producer = new Producer({ bootstrapServers: east.bootstrap });
    await producer.send({
      topic: 'orders',
      messages: Array.from({ length: 30 }, (_, i) => ({
        key: `k${i}`,
        value: `order ${i}`,
        partition: i % 3,
      })),
    });
    await producer.close();
    const consumer = new Consumer({
      bootstrapServers: east.bootstrap,
      groupId: 'billing',
      autoCommit: false,
      autoOffsetReset: 'earliest',
      clientId: 'billing-app',
    });
    consumer.subscribe(['orders']);
    let seen = 0;
    let commitAfter!: () => void;
    const committedSome = new Promise<void>((resolve) => (commitAfter = resolve));
    const running = consumer.run({
      eachMessage: async (m) => {
        if (m.offset < 4) {
          await consumer.commit([{ topic: m.topic, partition: m.partition, offset: m.offset + 1 }]);
          if (++seen === 12) commitAfter();
        }
      },
    });
    await committedSome;
    const active = await eventually(
      'the group is Stable with its member',
      () => api('GET', '/api/clusters/east/groups/billing'),
      (r) => r.body.state === 'Stable' && r.body.members.length === 1,
    );
    assert.equal(active.body.members[0].clientId, 'billing-app');
    assert.deepEqual(
      active.body.members[0].assignment.map((a: { partition: number }) => a.partition).sort(),
      [0, 1, 2],
    );
    const conflict = await api('POST', '/api/clusters/east/groups/billing/reset-offsets', { to: 'earliest' });
    assert.equal(conflict.status, 409);
    assert.equal(
      conflict.body.message,
      'consumer group "billing" is Stable with 1 member: stop its consumers before resetting its offsets',
    );
    assert.equal((await api('DELETE', '/api/clusters/east/groups/billing')).status, 409);
    await consumer.stop();
    await running;
    await consumer.close();

    const detail = await eventually(
      'the group is Empty',
      () => api('GET', '/api/clusters/east/groups/billing'),
      (r) => r.body.state === 'Empty',
    );
    assert.deepEqual(
      detail.body.offsets.map((o: Record<string, unknown>) => [
        o.partition,
        o.committedOffset,
        o.logEndOffset,
        o.lag,
      ]),
      [
        [0, 4, 10, 6],
        [1, 4, 10, 6],
        [2, 4, 10, 6],
      ],
    );
    assert.equal(detail.body.totalLag, 18);
    const py = await runAsync(PYTHON, [
      `${PYTHON_DIR}/group_offsets.py`,
      east.bootstrap,
      'orders',
      'billing',
    ]);
    assert.equal(py.status, 0, py.stderr);
    const theirs = JSON.parse(py.stdout) as {
      partitions: {
        partition: number;
        leader: number;
        replicas: number[];
        isr: number[];
        low: number;
        high: number;
        committed: number;
      }[];
    };
    const topic = await api('GET', '/api/clusters/east/topics/orders');
    for (const p of theirs.partitions) {
      const ours = topic.body.partitions[p.partition];
      assert.deepEqual(
        [ours.leader, ours.replicas, ours.isr, ours.logStartOffset, ours.logEndOffset],
        [p.leader, p.replicas, p.isr, p.low, p.high],
      );
      const lag = detail.body.offsets.find((o: { partition: number }) => o.partition === p.partition);
      assert.deepEqual([lag.committedOffset, lag.lag], [p.committed, p.high - p.committed]);
    }
    const list = await api('GET', '/api/clusters/east/groups');
    assert.deepEqual(list.body.items, [
      { groupId: 'billing', protocolType: 'consumer', state: 'Empty', members: 0, lag: 18 },
    ]);

    const dry = await api('POST', '/api/clusters/east/groups/billing/reset-offsets', {
      to: 'earliest',
      dryRun: true,
    });
    assert.equal(dry.status, 200);
    assert.deepEqual(
      dry.body.offsets.map((o: Record<string, unknown>) => [o.partition, o.previousOffset, o.newOffset]),
      [
        [0, 4, 0],
        [1, 4, 0],
        [2, 4, 0],
      ],
    );
    assert.equal(
      (await api('GET', '/api/clusters/east/groups/billing')).body.totalLag,
      18,
      'a dry run changes nothing',
    );
    const toOffset = await api('POST', '/api/clusters/east/groups/billing/reset-offsets', {
      to: 'offset',
      offset: 99,
      topics: [{ topic: 'orders', partitions: [1] }],
    });
    assert.equal(toOffset.status, 200);
    assert.deepEqual(toOffset.body.offsets, [
      {
        topic: 'orders',
        partition: 1,
        previousOffset: 4,
        newOffset: 10,
        logStartOffset: 0,
        logEndOffset: 10,
      },
    ]);
    const earliest = await api('POST', '/api/clusters/east/groups/billing/reset-offsets', { to: 'earliest' });
    assert.deepEqual(
      earliest.body.offsets.map((o: { newOffset: number }) => o.newOffset),
      [0, 0, 0],
    );
    const byTime = await api('POST', '/api/clusters/east/groups/billing/reset-offsets', {
      to: 'timestamp',
      timestamp: new Date(Date.now() + 3600000).toISOString(),
    });
    assert.deepEqual(
      byTime.body.offsets.map((o: { newOffset: number }) => o.newOffset),
      [10, 10, 10],
      'no record after the time: the log end',
    );
    const after_ = await api('GET', '/api/clusters/east/groups/billing');
    assert.equal(after_.body.totalLag, 0);
    const unknownTopic = await api('POST', '/api/clusters/east/groups/billing/reset-offsets', {
      to: 'latest',
      topics: [{ topic: 'nope' }],
    });
    assert.equal(unknownTopic.status, 404);
    const missing = await api('GET', '/api/clusters/east/groups/nobody');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.message, 'consumer group "nobody" does not exist in cluster east');
    const nothing = await api('POST', '/api/clusters/east/groups/nobody/reset-offsets', { to: 'earliest' });
    assert.equal(nothing.status, 400);
    assert.equal(
      nothing.body.message,
      'consumer group "nobody" has no committed offsets; name the topics to reset',
    );
    assert.equal((await api('DELETE', '/api/clusters/east/groups/billing')).status, 204);
    assert.equal((await api('GET', '/api/clusters/east/groups/billing')).status, 404);
  });

  test('cluster overview: counts, total lag and the log end offset sum', async () => {
    const r = await api('GET', '/api/clusters/east');
    assert.equal(r.status, 200);
    assert.equal(r.body.topics, 3);
    assert.equal(r.body.underReplicatedPartitions, 0);
    assert.equal(r.body.offlinePartitions, 0);
    assert.equal(r.body.logEndOffsetSum, 30 + 13);
    assert.equal(typeof r.body.sampledAt, 'number');
    const internal = await api('GET', '/api/clusters/east/topics?internal=true&q=__consumer');
    assert.deepEqual(
      internal.body.items.map((t: { name: string; internal: boolean }) => [t.name, t.internal]),
      [['__consumer_offsets', true]],
    );
  });

  test('mirror flows: no mirror configured, said plainly; topology from the configured clusters', async () => {
    const flows = await api('GET', '/api/flows');
    assert.equal(flows.status, 200);
    assert.deepEqual(flows.body.items, []);
    assert.equal(flows.body.mirror.configured, false);
    assert.equal(flows.body.mirror.provider, 'none');
    assert.match(flows.body.mirror.message, /^no mirror is configured/);
    for (const [method, path, body] of [
      ['GET', '/api/flows/east-%3Ewest', undefined],
      ['POST', '/api/flows/east-%3Ewest/pause', undefined],
      ['POST', '/api/flows/east-%3Ewest/resume', undefined],
      ['POST', '/api/flows/east-%3Ewest/throttle', { recordsPerSecond: 100, bytesPerSecond: null }],
    ] as const) {
      const r = await api(method, path, body);
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.match(r.body.message, /^flow "east->west" does not exist: no mirror is configured/);
    }
    const topology = await api('GET', '/api/topology');
    assert.deepEqual(topology.body.clusters, [
      { alias: 'east', datacenter: 'dc1', bootstrapServers: [east.bootstrap] },
      { alias: 'west', datacenter: 'dc2', bootstrapServers: [west.bootstrap] },
    ]);
    assert.deepEqual(topology.body.links, []);
    assert.equal(topology.body.mirror.configured, false);
  });

  test('client quotas: set, listed with their entity, removed; bad entities and keys are 400s', async () => {
    const path = '/api/clusters/east/quotas';
    assert.deepEqual((await api('GET', path)).body, { items: [] });
    const set = await api('PATCH', path, {
      entity: { user: 'alice', clientId: null },
      set: { producer_byte_rate: 1048576, request_percentage: 25.5 },
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(set.body, {
      entity: { user: 'alice', clientId: null },
      description: "user 'alice', client-id <default>",
      values: { producer_byte_rate: 1048576, request_percentage: 25.5 },
    });
    await api('PATCH', path, {
      entity: { clientId: 'tributary-mirror-east' },
      set: { consumer_byte_rate: 2048 },
    });
    const dry = await api('PATCH', path, {
      entity: { user: null },
      set: { consumer_byte_rate: 1 },
      validateOnly: true,
    });
    assert.equal(dry.status, 200);
    assert.deepEqual(dry.body.values, {}, 'validateOnly changes nothing');
    const list = await api('GET', path);
    assert.deepEqual(
      list.body.items.map((q: { description: string; values: object }) => [q.description, q.values]),
      [
        ["user 'alice', client-id <default>", { producer_byte_rate: 1048576, request_percentage: 25.5 }],
        ["client-id 'tributary-mirror-east'", { consumer_byte_rate: 2048 }],
      ],
    );
    const removed = await api('PATCH', path, {
      entity: { user: 'alice', clientId: null },
      remove: ['producer_byte_rate', 'request_percentage'],
    });
    assert.deepEqual(removed.body.values, {});
    assert.equal((await api('GET', path)).body.items.length, 1);
    const fractional = await api('PATCH', path, {
      entity: { clientId: 'a' },
      set: { producer_byte_rate: 1.5 },
    });
    assert.equal(fractional.status, 400);
    assert.match(fractional.body.message, /producer_byte_rate cannot be a fractional value/);
    assert.equal(fractional.body.details.kafkaError, 'INVALID_REQUEST');
    const badKey = await api('PATCH', path, { entity: { clientId: 'a' }, set: { bytes_per_second: 5 } });
    assert.equal(badKey.status, 400);
    assert.match(badKey.body.message, /body\.set\.bytes_per_second is not a quota key/);
    const noEntity = await api('PATCH', path, { entity: {}, set: { consumer_byte_rate: 5 } });
    assert.equal(noEntity.status, 400);
    assert.match(noEntity.body.message, /must name a user, a client id or both/);
    const zero = await api('PATCH', path, { entity: { clientId: 'a' }, set: { consumer_byte_rate: 0 } });
    assert.equal(zero.status, 400);
    assert.equal((await api('GET', '/api/clusters/nowhere/quotas')).status, 404);
  });

  test('OpenAPI document covers every API route, is valid OpenAPI 3.0, with Swagger UI at /docs', async () => {
    const doc = await api('GET', '/openapi.json');
    assert.equal(doc.status, 200);
    assert.equal(doc.body.openapi, '3.0.3');
    // What generators and gateways run first; it names every offending path when it throws.
    await SwaggerParser.validate(structuredClone(doc.body));
    const routes = Object.entries(doc.body.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    assert.deepEqual(routes.sort(), [
      'DELETE /api/clusters/{cluster}/groups/{group}',
      'DELETE /api/clusters/{cluster}/topics/{topic}',
      'GET /api/clusters',
      'GET /api/clusters/{cluster}',
      'GET /api/clusters/{cluster}/brokers',
      'GET /api/clusters/{cluster}/brokers/{nodeId}/configs',
      'GET /api/clusters/{cluster}/groups',
      'GET /api/clusters/{cluster}/groups/{group}',
      'GET /api/clusters/{cluster}/quotas',
      'GET /api/clusters/{cluster}/topics',
      'GET /api/clusters/{cluster}/topics/{topic}',
      'GET /api/clusters/{cluster}/topics/{topic}/configs',
      'GET /api/clusters/{cluster}/topics/{topic}/partitions/{partition}/records',
      'GET /api/flows',
      'GET /api/flows/{flow}',
      'GET /api/flows/{flow}/checkpoints',
      'GET /api/flows/{flow}/groups/{group}/offsets',
      'GET /api/health',
      'GET /api/mirror/workers',
      'GET /api/ready',
      'GET /api/topology',
      'GET /metrics',
      'PATCH /api/clusters/{cluster}/quotas',
      'PATCH /api/clusters/{cluster}/topics/{topic}/configs',
      'POST /api/clusters/{cluster}/groups/{group}/reset-offsets',
      'POST /api/clusters/{cluster}/topics',
      'POST /api/clusters/{cluster}/topics/{topic}/partitions',
      'POST /api/flows/{flow}/failback',
      'POST /api/flows/{flow}/failover',
      'POST /api/flows/{flow}/pause',
      'POST /api/flows/{flow}/promote',
      'POST /api/flows/{flow}/resume',
      'POST /api/flows/{flow}/reverse',
      'POST /api/flows/{flow}/throttle',
    ]);
    const create = doc.body.paths['/api/clusters/{cluster}/topics'].post;
    assert.deepEqual(create.requestBody.content['application/json'].schema.required, ['name']);
    assert.deepEqual(Object.keys(create.responses).sort(), ['201', '400', '404', '409', '500', '503']);
    const docs = await fetch(`${console_.url}/docs`);
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger-ui-bundle\.js/);
    const bundle = await fetch(`${console_.url}/docs/swagger-ui-bundle.js`);
    assert.equal(bundle.status, 200);
    assert.ok((await bundle.arrayBuffer()).byteLength > 100000);
    assert.equal((await fetch(`${console_.url}/docs/..%2Fpackage.json`)).status, 404);
  });
});

describe('console with a cluster it cannot reach', () => {
  test('the cluster is listed as unreachable, its calls are 503 and the console is not ready', async () => {
    const b = await startBroker();
    const port = await closedPort();
    const c = await startConsole({
      clusters: [cluster('up', b.bootstrap), cluster('gone', `127.0.0.1:${port}`)],
      host: '127.0.0.1',
      port: 0,
      logLevels: ['error'],
    });
    try {
      const api = apiClient(c.url);
      const list = await api('GET', '/api/clusters');
      assert.deepEqual(
        list.body.items.map((x: { alias: string; reachable: boolean }) => [x.alias, x.reachable]),
        [
          ['up', true],
          ['gone', false],
        ],
      );
      assert.match(
        list.body.items[1].error,
        new RegExp(`no broker is reachable \\(tried 127.0.0.1:${port}\\)`),
      );
      const topics = await api('GET', '/api/clusters/gone/topics');
      assert.equal(topics.status, 503);
      assert.equal(topics.body.error, 'Service Unavailable');
      assert.equal(topics.body.details.kafkaError, 'NETWORK_EXCEPTION');
      const ready = await api('GET', '/api/ready');
      assert.equal(ready.status, 503);
      assert.match(ready.body.message, /^not ready: cannot reach gone /);
      assert.deepEqual(
        ready.body.details.clusters.map((x: { alias: string; reachable: boolean }) => [x.alias, x.reachable]),
        [
          ['up', true],
          ['gone', false],
        ],
      );
    } finally {
      await c.close();
      await b.stop();
    }
  });
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Producer } from '@tributary/client';
import { MAIN, ROOT, runAsync, startBroker, tempDir, type BrokerProcess } from '../support/broker-process';
import { eventually } from './console-support';

const cli = (...args: string[]) => runAsync(process.execPath, [MAIN, ...args], { timeoutMs: 30000 });

/** Runs a command with --json and parses what it printed; it must succeed. */
async function json(...args: string[]) {
  const r = await cli(...args, '--json');
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe('tributary topics and groups', () => {
  let broker: BrokerProcess;
  let b: string[];

  before(async () => {
    broker = await startBroker({ extraArgs: ['--set', 'group.initial.rebalance.delay.ms=0'] });
    b = ['--bootstrap-server', broker.bootstrap];
  });

  after(async () => {
    await broker?.stop();
  });

  test('topics: create, list, describe, alter-config, delete; tables for people, JSON for scripts', async () => {
    const created = await json(
      'topics',
      'create',
      'orders',
      '--partitions',
      '2',
      '--config',
      'retention.ms=3600000',
      ...b,
    );
    assert.equal(created.name, 'orders');
    assert.equal(created.partitions.length, 2);
    const again = await cli('topics', 'create', 'orders', ...b);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /^tributary: TOPIC_ALREADY_EXISTS: creating topic orders: /);

    const listed = await json('topics', 'list', ...b);
    assert.deepEqual(listed, [
      {
        name: 'orders',
        internal: false,
        partitions: 2,
        replicationFactor: 1,
        underReplicatedPartitions: 0,
        offlinePartitions: 0,
      },
    ]);
    const table = await cli('topics', 'list', ...b);
    assert.equal(table.status, 0);
    assert.deepEqual(
      table.stdout.split('\n').filter((l) => l !== ''),
      [
        'TOPIC   PARTITIONS  REPLICATION-FACTOR  UNDER-REPLICATED  OFFLINE',
        'orders           2                   1                 0        0',
      ],
    );

    const described = await json('topics', 'describe', 'orders', ...b);
    assert.deepEqual(
      described.configs.map((c: { name: string; value: string }) => `${c.name}=${c.value}`),
      ['retention.ms=3600000'],
    );
    assert.deepEqual(
      described.partitions.map((p: { leader: number; isr: number[] }) => [p.leader, p.isr]),
      [
        [1, [1]],
        [1, [1]],
      ],
    );
    const describeTable = await cli('topics', 'describe', 'orders', ...b);
    assert.match(
      describeTable.stdout,
      /^Topic: orders\tTopicId: \S+\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: retention.ms=3600000\n/,
    );
    assert.ok(
      describeTable.stdout.includes('\nPARTITION  LEADER  REPLICAS  ISR  LOG-START-OFFSET  LOG-END-OFFSET\n'),
    );

    const altered = await json(
      'topics',
      'alter-config',
      'orders',
      '--set',
      'cleanup.policy=compact',
      '--delete',
      'retention.ms',
      ...b,
    );
    const byName = new Map(altered.map((c: { name: string; value: string; source: string }) => [c.name, c]));
    assert.deepEqual(
      [byName.get('cleanup.policy'), (byName.get('retention.ms') as { source: string }).source],
      [
        {
          name: 'cleanup.policy',
          value: 'compact',
          source: 'DYNAMIC_TOPIC_CONFIG',
          isDefault: false,
          readOnly: false,
          sensitive: false,
        },
        'DEFAULT_CONFIG',
      ],
    );
    const bad = await cli('topics', 'alter-config', 'orders', '--set', 'retention.ms=soon', ...b);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /INVALID_CONFIG/);

    await json('topics', 'create', 'scratch', ...b);
    assert.deepEqual(await json('topics', 'delete', 'scratch', ...b), { deleted: 'scratch' });
    const gone = await cli('topics', 'describe', 'scratch', ...b);
    assert.equal(gone.status, 1);
    assert.equal(gone.stderr, `tributary: topic "scratch" does not exist in cluster ${broker.bootstrap}\n`);
  });

  test('groups: reset-offsets (dry run unless --execute), describe with lag, list, delete', async () => {
    const producer = new Producer({ bootstrapServers: broker.bootstrap });
    await producer.send({
      topic: 'orders',
      messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: i % 2 })),
    });
    await producer.close();

    const created = await json(
      'groups',
      'reset-offsets',
      'reports',
      '--to-offset',
      '2',
      '--topic',
      'orders',
      '--execute',
      ...b,
    );
    assert.deepEqual(
      created.offsets.map((o: { partition: number; previousOffset: number | null; newOffset: number }) => [
        o.partition,
        o.previousOffset,
        o.newOffset,
      ]),
      [
        [0, null, 2],
        [1, null, 2],
      ],
    );
    const described = await json('groups', 'describe', 'reports', ...b);
    assert.equal(described.state, 'Empty');
    assert.deepEqual(
      described.offsets.map(
        (o: { partition: number; committedOffset: number; logEndOffset: number; lag: number }) => [
          o.partition,
          o.committedOffset,
          o.logEndOffset,
          o.lag,
        ],
      ),
      [
        [0, 2, 5, 3],
        [1, 2, 5, 3],
      ],
    );
    const table = await cli('groups', 'describe', 'reports', ...b);
    assert.match(table.stdout, /^Group reports is Empty with 0 member\(s\); protocol -; total lag 6\.\n/);
    assert.match(table.stdout, /\norders\s+0\s+2\s+5\s+3\s+-\s+-\s+-\n/);
    assert.deepEqual(await json('groups', 'list', ...b), [
      { groupId: 'reports', protocolType: '', state: 'Empty', members: 0, lag: 6 },
    ]);

    const dry = await cli('groups', 'reset-offsets', 'reports', '--to-earliest', '--all-topics', ...b);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /Dry run: nothing changed \(add --execute to apply\)\.\n$/);
    assert.equal((await json('groups', 'describe', 'reports', ...b)).totalLag, 6);
    const latest = await json(
      'groups',
      'reset-offsets',
      'reports',
      '--to-latest',
      '--topic',
      'orders:1',
      '--execute',
      ...b,
    );
    assert.deepEqual(
      latest.offsets.map((o: { newOffset: number }) => o.newOffset),
      [5],
    );
    assert.equal((await json('groups', 'describe', 'reports', ...b)).totalLag, 3);

    assert.deepEqual(await json('groups', 'delete', 'reports', ...b), { deleted: 'reports' });
    const missing = await cli('groups', 'describe', 'reports', ...b);
    assert.equal(missing.status, 1);
    assert.equal(
      missing.stderr,
      `tributary: consumer group "reports" does not exist in cluster ${broker.bootstrap}\n`,
    );
  });

  test('usage mistakes exit 2 with what to fix', async () => {
    const cases: [string[], RegExp][] = [
      [['topics', 'create', ...b], /^tributary: TOPIC is required/],
      [['topics', 'list'], /--bootstrap-server HOST:PORT is required/],
      [
        ['topics', 'list', '--bootstrap-server', 'nohost'],
        /--bootstrap-server\[0\] must be host:port, got "nohost"/,
      ],
      [['topics', 'list', '--partitons', '3', ...b], /^tributary: unknown option --partitons/],
      [
        ['topics', 'create', 'x', '--partitions', 'many', ...b],
        /--partitions must be an integer >= 1, got many/,
      ],
      [
        ['groups', 'reset-offsets', 'g', '--topic', 'orders', ...b],
        /give exactly one of --to-earliest, --to-latest/,
      ],
      [
        ['groups', 'reset-offsets', 'g', '--to-latest', ...b],
        /give --topic TOPIC\[:P,P\] \(repeatable\) or --all-topics/,
      ],
      [['groups', 'frobnicate', ...b], /unknown groups command "frobnicate"/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
  });
});

describe('tributary console and mirror', () => {
  test('the console command serves the config’s clusters; mirror commands say no mirror is configured', async () => {
    const broker = await startBroker();
    const dir = tempDir('console-config');
    const file = path.join(dir, 'console.yaml');
    fs.writeFileSync(
      file,
      `http:\n  host: 127.0.0.1\n  port: 0\nclusters:\n  - alias: local\n    bootstrap.servers: ${broker.bootstrap}\n    datacenter: dc1\n    client:\n      client.id: cli-test\n`,
    );
    const child = spawn(process.execPath, [MAIN, 'console', '--config', file], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = (await eventually(
        'the console prints its address',
        async () => /^console on (http:\/\/\S+) for local:/m.exec(out)?.[1],
        (u) => u !== undefined,
        30_000,
      )) as string;
      const clusters = (await (await fetch(`${url}/api/clusters`)).json()) as {
        items: { alias: string; reachable: boolean }[];
      };
      assert.deepEqual(
        clusters.items.map((c) => [c.alias, c.reachable]),
        [['local', true]],
      );
      const list = await cli('mirror', 'list', '--console', url);
      assert.equal(list.status, 0, list.stderr);
      assert.equal(
        list.stdout,
        `The console at ${url} says: no mirror is configured: this console has no replicator attached, so there are no flows to show or control.\n`,
      );
      const listed = await json('mirror', 'list', '--console', url);
      assert.deepEqual([listed.mirror.configured, listed.items], [false, []]);
      const pause = await cli('mirror', 'pause', 'dc1-a->dc1-agg', '--console', url);
      assert.equal(pause.status, 1);
      assert.match(
        pause.stderr,
        /^tributary: 404 flow "dc1-a->dc1-agg" does not exist: no mirror is configured/,
      );
      const throttle = await cli('mirror', 'throttle', 'f', '--records-per-second', 'fast', '--console', url);
      assert.equal(throttle.status, 2);
      assert.match(throttle.stderr, /--records-per-second must be a number > 0 or none, got fast/);
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, 0, out);
      await broker.stop();
    }
    const nowhere = await cli('mirror', 'list', '--console', 'http://127.0.0.1:1');
    assert.equal(nowhere.status, 1);
    assert.match(nowhere.stderr, /^tributary: cannot reach the console at http:\/\/127.0.0.1:1/);
  });

  test('a bad console config stops the command, naming the file and the key', async () => {
    const file = path.join(tempDir('console-config'), 'bad.yaml');
    fs.writeFileSync(
      file,
      'clusters:\n  - alias: dc1-a\n    bootstrap.servers: 127.0.0.1:9092\n  - alias: dc1-a\n    bootstrap.servers: 127.0.0.1:9093\n',
    );
    const dup = await cli('console', '--config', file);
    assert.equal(dup.status, 2);
    assert.equal(
      dup.stderr,
      `tributary: ${file}: clusters[1].alias repeats "dc1-a"; aliases must be unique\n`,
    );
    fs.writeFileSync(
      file,
      'clusters:\n  - alias: a\n    bootstrap.servers: 127.0.0.1:9092\n    client:\n      linger.ms: 5\n',
    );
    const unknown = await cli('console', '--config', file);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /clusters\[0\]\.client\.linger\.ms is not a supported client setting/);
  });
});

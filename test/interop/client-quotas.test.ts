import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Admin } from '@tributary/client';
import { PYTHON, PYTHON_DIR, runAsync, startBroker, type BrokerProcess } from '../support/broker-process';

const SCRIPT = path.join(PYTHON_DIR, 'kafka_python_quotas.py');
/** kcat's records: 999 bytes and a newline delimiter. */
const VALUE = 999;
const LINE = Buffer.from(`${'q'.repeat(VALUE)}\n`);
/** The quota under test, 512 KiB/s; Kafka measures it over 11 samples of 1 s. */
const RATE = 524_288;
const QUOTA_WINDOW_S = 11;

type Entity = [string, string | null][];

async function quotas<T>(bootstrap: string, command: object): Promise<T> {
  const r = await runAsync(PYTHON, [SCRIPT, bootstrap, JSON.stringify(command)], { timeoutMs: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

const alter = (
  bootstrap: string,
  entries: { entity: Entity; ops: [string, number, boolean][] }[],
  validateOnly = false,
) =>
  quotas<{ error_code: number; error_message: string | null; entity: Entity }[]>(bootstrap, {
    alter: { entries, validate_only: validateOnly },
  });

const describeQuotas = (bootstrap: string, components: [string, number, string | null][], strict = false) =>
  quotas<{
    error_code: number;
    error_message: string | null;
    entries: { entity: Entity; values: Record<string, number> }[] | null;
  }>(bootstrap, { describe: { components, strict } });

/** Produces lines as fast as kcat takes them, until stopped. */
function flood(bootstrap: string, topic: string, clientId: string): { stop: () => void } {
  const kcat = spawn(
    'kcat',
    [
      '-P',
      '-b',
      bootstrap,
      '-t',
      topic,
      '-X',
      `client.id=${clientId}`,
      '-X',
      'batch.size=16384',
      '-X',
      'linger.ms=5',
    ],
    { stdio: ['pipe', 'ignore', 'ignore'] },
  );
  const chunk = Buffer.concat(Array.from({ length: 64 }, () => LINE));
  let stopped = false;
  const write = (): void => {
    while (!stopped && kcat.stdin.write(chunk));
    if (!stopped) kcat.stdin.once('drain', write);
  };
  kcat.stdin.on('error', () => undefined);
  write();
  return {
    stop: () => {
      stopped = true;
      kcat.kill('SIGKILL');
    },
  };
}

/** Samples a count every 250 ms for `seconds`; times are seconds since the start. */
async function sample(seconds: number, count: () => Promise<number>): Promise<[number, number][]> {
  const start = Date.now();
  const points: [number, number][] = [[0, 0]];
  while (Date.now() - start < seconds * 1000) {
    await new Promise((r) => setTimeout(r, 250));
    points.push([(Date.now() - start) / 1000, await count()]);
  }
  return points;
}

/**
 * What Kafka's quota promises a client that sends as fast as it can: in any span of the
 * quota's window (11 samples of 1 s) it gets no more than the rate times that span, within
 * 10%, and over the whole run not much less than the rate. Kafka's Rate lets a new client
 * send a window's worth at once and again whenever its oldest sample expires, so a greedy
 * client moves in bursts; as it keeps one sample more than quota.window.num, a burst can
 * follow a second of traffic within one span: 12 s worth in 11 s (+9%) is the most it gets.
 */
function assertHeldToRate(points: [number, number][], what: string): string {
  let worst = 0;
  for (const [t0, b0] of points)
    for (const [t1, b1] of points) {
      if (t1 - t0 < QUOTA_WINDOW_S - 0.25 || t1 - t0 > QUOTA_WINDOW_S) continue;
      worst = Math.max(worst, (b1 - b0) / QUOTA_WINDOW_S);
    }
  const [end, total] = points[points.length - 1];
  const mean = total / end;
  assert.ok(worst > 0, `${what}: some ${QUOTA_WINDOW_S} s spans measured`);
  assert.ok(
    worst <= RATE * 1.1,
    `${what}: ${Math.round(worst)} B/s over ${QUOTA_WINDOW_S} s exceeds ${RATE} by more than 10%`,
  );
  assert.ok(
    mean >= RATE * 0.9,
    `${what}: ${Math.round(mean)} B/s over the run is more than 10% below ${RATE}`,
  );
  return `${what}: at most ${Math.round(worst)} B/s over any ${QUOTA_WINDOW_S} s, ${Math.round(mean)} B/s over ${end.toFixed(1)} s (quota ${RATE})`;
}

describe('client quotas on a broker, set with kafka-python and felt by kcat', { timeout: 300_000 }, () => {
  let broker: BrokerProcess;
  let admin: Admin;

  before(async () => {
    broker = await startBroker();
    admin = new Admin({ bootstrapServers: broker.bootstrap });
  });

  after(async () => {
    await admin?.close();
    await broker?.stop();
  });

  test('kafka-python alters and describes quotas of users, client ids, defaults and combinations', async () => {
    const set = await alter(broker.bootstrap, [
      {
        entity: [
          ['user', 'alice'],
          ['client-id', 'app'],
        ],
        ops: [['producer_byte_rate', 2048, false]],
      },
      {
        entity: [['user', 'alice']],
        ops: [
          ['consumer_byte_rate', 4096, false],
          ['request_percentage', 12.5, false],
        ],
      },
      { entity: [['user', null]], ops: [['controller_mutation_rate', 0.5, false]] },
      { entity: [['client-id', null]], ops: [['producer_byte_rate', 1e6, false]] },
    ]);
    assert.deepEqual(
      set.map((e) => e.error_code),
      [0, 0, 0, 0],
    );
    const all = await describeQuotas(broker.bootstrap, []);
    assert.equal(all.error_code, 0);
    const byEntity = Object.fromEntries((all.entries ?? []).map((e) => [JSON.stringify(e.entity), e.values]));
    assert.deepEqual(byEntity, {
      '[["user","alice"],["client-id","app"]]': { producer_byte_rate: 2048 },
      '[["user","alice"]]': { consumer_byte_rate: 4096, request_percentage: 12.5 },
      '[["user",null]]': { controller_mutation_rate: 0.5 },
      '[["client-id",null]]': { producer_byte_rate: 1e6 },
    });
    // user alice exactly: her own entity and her combinations; strict: only her own.
    const alice = await describeQuotas(broker.bootstrap, [['user', 0, 'alice']]);
    assert.equal(alice.entries?.length, 2);
    const strict = await describeQuotas(broker.bootstrap, [['user', 0, 'alice']], true);
    assert.deepEqual(
      strict.entries?.map((e) => e.entity),
      [[['user', 'alice']]],
    );
    const defaults = await describeQuotas(broker.bootstrap, [['client-id', 1, null]]);
    assert.deepEqual(
      defaults.entries?.map((e) => e.entity),
      [[['client-id', null]]],
    );
    const anyUser = await describeQuotas(broker.bootstrap, [['user', 2, null]]);
    assert.equal(anyUser.entries?.length, 2, 'any named user, not the default');

    const removed = await alter(broker.bootstrap, [
      {
        entity: [
          ['user', 'alice'],
          ['client-id', 'app'],
        ],
        ops: [['producer_byte_rate', 0, true]],
      },
      {
        entity: [['client-id', null]],
        ops: [
          ['producer_byte_rate', 0, true],
          ['consumer_byte_rate', 0, true],
        ],
      },
    ]);
    assert.deepEqual(
      removed.map((e) => e.error_code),
      [0, 0],
    );
    assert.equal((await describeQuotas(broker.bootstrap, [])).entries?.length, 2);
  });

  test("bad alterations are refused one by one with Kafka's errors; validate_only stores nothing", async () => {
    const r = await alter(broker.bootstrap, [
      { entity: [['client-id', 'ok']], ops: [['consumer_byte_rate', 1000, false]] },
      { entity: [['client-id', 'x']], ops: [['producer_byte_rate', 10.5, false]] },
      { entity: [['client-id', 'z']], ops: [['bytes', 1, false]] },
      { entity: [['client-id', 'y']], ops: [['request_percentage', -1, false]] },
      { entity: [['group', 'g']], ops: [['producer_byte_rate', 1, false]] },
      { entity: [['user', '']], ops: [['producer_byte_rate', 1, false]] },
      { entity: [], ops: [['producer_byte_rate', 1, false]] },
      { entity: [['client-id', 'ok']], ops: [['producer_byte_rate', 1, false]] },
    ]);
    assert.deepEqual(
      r.map((e) => [e.error_code, e.error_message]),
      [
        [0, null],
        [42, 'producer_byte_rate cannot be a fractional value.'],
        [42, 'Invalid configuration key bytes'],
        [42, 'Quota request_percentage must be greater than 0'],
        [42, 'Unhandled client quota entity type: group'],
        [42, 'Empty user not supported'],
        [42, 'Invalid empty client quota entity'],
        [42, 'Ignoring duplicate entity ClientQuotaEntity(entries={client-id=ok})'],
      ],
    );
    const dry = await alter(
      broker.bootstrap,
      [{ entity: [['client-id', 'dry']], ops: [['producer_byte_rate', 5, false]] }],
      true,
    );
    assert.equal(dry[0].error_code, 0);
    assert.equal((await describeQuotas(broker.bootstrap, [['client-id', 0, 'dry']])).entries?.length, 0);
    const badFilter = await describeQuotas(broker.bootstrap, [['user', 0, null]]);
    assert.equal(badFilter.error_code, 42);
    assert.equal(
      badFilter.error_message,
      'Request specified MATCH_TYPE_EXACT, but set match string to null.',
    );
    assert.equal(badFilter.entries, null);
    await alter(broker.bootstrap, [
      { entity: [['client-id', 'ok']], ops: [['consumer_byte_rate', 0, true]] },
    ]);
  });

  test('a produce quota holds a kcat producer to its byte rate; another client id is unaffected', async (t) => {
    await alter(broker.bootstrap, [
      { entity: [['client-id', 'quota-slow']], ops: [['producer_byte_rate', RATE, false]] },
    ]);
    await admin.createTopics([
      { name: 'quota-slow', numPartitions: 1 },
      { name: 'quota-free', numPartitions: 1 },
    ]);
    const producer = flood(broker.bootstrap, 'quota-slow', 'quota-slow');
    const lines = 12_000;
    let freeSeconds = 0;
    const free = (async () => {
      await new Promise((r) => setTimeout(r, 3000));
      const started = Date.now();
      const r = await runAsync(
        'kcat',
        ['-P', '-b', broker.bootstrap, '-t', 'quota-free', '-X', 'client.id=quota-free'],
        {
          input: Buffer.concat(Array.from({ length: lines }, () => LINE)),
          timeoutMs: 60_000,
        },
      );
      freeSeconds = (Date.now() - started) / 1000;
      assert.equal(r.status, 0, r.stderr);
    })();
    let points: [number, number][];
    try {
      points = await sample(23, async () => {
        const [end] = await admin.listOffsets([{ topic: 'quota-slow', partition: 0 }], 'latest');
        return end.offset * VALUE;
      });
    } finally {
      producer.stop();
    }
    await free;
    t.diagnostic(assertHeldToRate(points, 'the quota’d producer'));
    // 12 MB: at the quota it would take over 12 s.
    assert.ok(freeSeconds < 6, `the unquota'd producer took ${freeSeconds} s for ${lines * VALUE} bytes`);
  });

  test('a consume quota holds a kcat consumer to its byte rate; another client id is unaffected', async (t) => {
    const lines = 30_000;
    const fill = await runAsync(
      'kcat',
      ['-P', '-b', broker.bootstrap, '-t', 'quota-read', '-X', 'batch.size=16384'],
      {
        input: Buffer.concat(Array.from({ length: lines }, () => LINE)),
        timeoutMs: 60_000,
      },
    );
    assert.equal(fill.status, 0, fill.stderr);
    await alter(broker.bootstrap, [
      { entity: [['client-id', 'quota-reader']], ops: [['consumer_byte_rate', RATE, false]] },
    ]);
    const reader = spawn(
      'kcat',
      [
        '-C',
        '-b',
        broker.bootstrap,
        '-t',
        'quota-read',
        '-o',
        'beginning',
        '-q',
        '-f',
        '%o\\n',
        '-X',
        'client.id=quota-reader',
        '-X',
        'max.partition.fetch.bytes=16384',
        // Unbuffered: each record is counted when kcat has it, not when its stdout buffer fills.
        '-u',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let read = 0;
    reader.stdout.on('data', (d: Buffer) => {
      for (const byte of d) if (byte === 0x0a) read++;
    });
    let points: [number, number][];
    try {
      points = await sample(23, async () => read * VALUE);
    } finally {
      reader.kill('SIGKILL');
    }
    t.diagnostic(assertHeldToRate(points, 'the quota’d consumer'));
    const started = Date.now();
    const free = await runAsync(
      'kcat',
      [
        '-C',
        '-b',
        broker.bootstrap,
        '-t',
        'quota-read',
        '-o',
        'beginning',
        '-e',
        '-q',
        '-f',
        '%o\\n',
        '-X',
        'client.id=quota-free',
      ],
      { timeoutMs: 60_000 },
    );
    assert.equal(free.status, 0, free.stderr);
    assert.equal(free.stdout.split('\n').filter((l) => l !== '').length, lines);
    const seconds = (Date.now() - started) / 1000;
    assert.ok(seconds < 8, `the unquota'd consumer took ${seconds} s for ${lines * VALUE} bytes`);
  });

  test('quotas survive a restart and are enforced after it', async () => {
    await alter(broker.bootstrap, [
      { entity: [['client-id', 'tiny']], ops: [['producer_byte_rate', 1024, false]] },
    ]);
    const before = await describeQuotas(broker.bootstrap, []);
    assert.equal(await broker.stop(), 0);
    broker = await startBroker({ dataDir: broker.dataDir });
    await admin.close();
    admin = new Admin({ bootstrapServers: broker.bootstrap });
    const afterRestart = await describeQuotas(broker.bootstrap, []);
    const sorted = (r: typeof before) => (r.entries ?? []).map((e) => JSON.stringify(e)).sort();
    assert.deepEqual(sorted(afterRestart), sorted(before));
    // 12 KB from a client allowed 1 KB/s: over 10 s of quota, so the answer says to wait.
    const r = await runAsync('kcat', ['-P', '-b', broker.bootstrap, '-t', 'tiny', '-X', 'client.id=tiny'], {
      input: Buffer.concat(Array.from({ length: 12 }, () => LINE)),
      timeoutMs: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /throttled request for \d+ms/);
  });
});

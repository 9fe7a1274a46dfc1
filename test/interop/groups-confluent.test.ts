import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@tributary/client';
import { CreateTopics, encodeRecordBatch, ErrorCode, OffsetFetch, Produce } from '@tributary/protocol';
import {
  PYTHON,
  PYTHON_DIR,
  ROOT,
  runAsync,
  startBroker,
  tempDir,
  type BrokerProcess,
} from '../support/broker-process';

const TOPIC = 'orders';
const GROUP = 'order-processors';
const PARTITIONS = 6;
const SESSION_TIMEOUT_S = 6;

interface MemberEvent {
  ev: string;
  t: number;
  member: string;
  partitions?: number[];
  p?: number;
  o?: number;
  began?: number;
  offsets?: Record<string, number>;
}

/** One group_member.py process; its events arrive as JSON lines. */
class Member {
  readonly events: MemberEvent[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private stderr = '';
  /** When it was killed (seconds), if it was. */
  killedAt: number | null = null;

  constructor(
    readonly name: string,
    bootstrap: string,
    options: { topic?: string; group?: string; config?: readonly string[] } = {},
  ) {
    const script = path.join(PYTHON_DIR, 'group_member.py');
    const args = [
      script,
      bootstrap,
      options.topic ?? TOPIC,
      options.group ?? GROUP,
      name,
      ...(options.config ?? []),
    ];
    this.child = spawn(PYTHON, args, {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    readline.createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.events.push(JSON.parse(line) as MemberEvent);
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  of(ev: string): MemberEvent[] {
    return this.events.filter((e) => e.ev === ev);
  }

  /** The partitions it owns now, from its assign/revoke/lost callbacks. */
  owned(): Set<number> {
    const owned = new Set<number>();
    for (const e of this.events) {
      if (e.ev === 'assign') for (const p of e.partitions ?? []) owned.add(p);
      if (e.ev === 'revoke' || e.ev === 'lost') for (const p of e.partitions ?? []) owned.delete(p);
    }
    return owned;
  }

  /** Next offset per partition from its last successful commits. */
  lastCommits(): Map<number, number> {
    const out = new Map<number, number>();
    for (const e of this.of('commit'))
      for (const [p, o] of Object.entries(e.offsets ?? {})) out.set(Number(p), o);
    return out;
  }

  /** Ownership intervals [start, end) in seconds, per partition; open ones end at `end`. */
  intervals(end: number): Map<number, [number, number][]> {
    const out = new Map<number, [number, number][]>();
    const open = new Map<number, number>();
    for (const e of this.events) {
      if (e.ev === 'assign') for (const p of e.partitions ?? []) open.set(p, e.t);
      if (e.ev === 'revoke' || e.ev === 'lost') {
        for (const p of e.partitions ?? []) {
          const start = open.get(p);
          if (start === undefined) continue;
          open.delete(p);
          out.set(p, [...(out.get(p) ?? []), [start, e.t]]);
        }
      }
    }
    for (const [p, start] of open) out.set(p, [...(out.get(p) ?? []), [start, this.killedAt ?? end]]);
    return out;
  }

  async stop(): Promise<number | null> {
    this.child.stdin!.end('stop\n');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), 30_000)),
    );
    const code = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    assert.notEqual(code, 'timeout', `${this.name} did not stop:\n${this.stderr}`);
    return code as number | null;
  }

  async kill9(): Promise<void> {
    this.killedAt = Date.now() / 1000;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Kills it if a failed test left it running. */
  cleanup(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  diagnostics(): string {
    return `${this.name}: ${this.events.length} events; stderr:\n${this.stderr.slice(-2000)}`;
  }
}

/** The members' ownership intervals of a partition never overlap. */
function assertOneOwnerAtATime(members: readonly Member[], partition: number, end: number): void {
  const spans = members.flatMap((m) =>
    (m.intervals(end).get(partition) ?? []).map(([s, e]) => ({ member: m.name, s, e })),
  );
  for (const x of spans) {
    for (const y of spans) {
      if (x === y || x.s > y.s) continue;
      assert.ok(
        y.s >= x.e,
        `partition ${partition}: ${y.member} owned it from ${y.s} while ${x.member} held it until ${x.e}`,
      );
    }
  }
}

async function waitFor(
  what: string,
  condition: () => boolean,
  timeoutMs: number,
  detail = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}\n${detail()}`);
    await sleep(100);
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A confluent-kafka (librdkafka 2.0.2) consumer group of three processes on six partitions,
 * one of them killed with -9 mid-stream, then the broker restarted (SIGTERM, then kill -9).
 */
describe('a confluent-kafka consumer group against a broker process', () => {
  let broker: BrokerProcess;
  let conn: Connection;
  let port: number;
  const dataDir = tempDir('groups-confluent');
  const members: Member[] = [];
  /** How many records each partition holds. */
  const produced: number[] = new Array(PARTITIONS).fill(0);
  const brokerArgs = ['--set', 'group.initial.rebalance.delay.ms=1000'];

  const startOurBroker = async (): Promise<void> => {
    broker = await startBroker({ dataDir, port, extraArgs: brokerArgs });
    conn = await new Connection({ host: '127.0.0.1', port, clientId: 'test' }).connect();
  };

  /** Five records to every partition, acks=all. */
  const produceRound = async (): Promise<void> => {
    const r = await conn.request(Produce, {
      acks: -1,
      timeoutMs: 5000,
      topicData: [
        {
          name: TOPIC,
          partitionData: produced.map((_, index) => ({
            index,
            records: encodeRecordBatch({
              records: Array.from({ length: 5 }, (_, i) => ({
                value: Buffer.from(`${index}:${produced[index] + i}`),
              })),
            }),
          })),
        },
      ],
    });
    for (const p of r.responses[0].partitionResponses) {
      assert.equal(p.errorCode, ErrorCode.NONE);
      assert.equal(p.baseOffset, produced[p.index]);
      produced[p.index] += 5;
    }
  };

  const committedOffsets = async (): Promise<number[]> => {
    const r = await conn.send(OffsetFetch, 7, {
      groupId: GROUP,
      topics: [{ name: TOPIC, partitionIndexes: produced.map((_, i) => i) }],
      requireStable: false,
    });
    assert.equal(r.errorCode, ErrorCode.NONE);
    return r.topics[0].partitions.map((p) => p.committedOffset);
  };

  before(async () => {
    port = await freePort();
    await startOurBroker();
    const created = await conn.request(CreateTopics, {
      topics: [
        { name: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] },
      ],
      timeoutMs: 5000,
    });
    assert.equal(created.topics[0].errorCode, ErrorCode.NONE);
  });

  after(async () => {
    for (const m of members) m.cleanup();
    conn?.close();
    await broker?.stop();
  });

  test('each partition has one owner at a time, a killed member is replaced within the session timeout, every record is consumed', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((name) => new Member(name, broker.bootstrap));
    members.push(a, b, c);
    const diagnostics = () =>
      members.map((m) => m.diagnostics()).join('\n') + `\nbroker:\n${broker.output().slice(-3000)}`;
    const everyoneOwns = (group: Member[]) => {
      const owned = group.map((m) => m.owned());
      const all = owned.flatMap((s) => [...s]);
      return owned.every((s) => s.size > 0) && all.length === PARTITIONS && new Set(all).size === PARTITIONS;
    };
    await waitFor(
      'three members to share the six partitions',
      () => everyoneOwns([a, b, c]),
      45_000,
      diagnostics,
    );

    // librdkafka's admin list_groups: ListGroups, then DescribeGroups.
    const listing = await runAsync(
      PYTHON,
      [path.join(PYTHON_DIR, 'confluent_groups.py'), broker.bootstrap, GROUP],
      {
        timeoutMs: 30_000,
      },
    );
    assert.equal(listing.status, 0, listing.stderr);
    const [described] = JSON.parse(listing.stdout);
    assert.equal(described.id, GROUP);
    assert.equal(described.error, null);
    assert.equal(described.state, 'Stable');
    assert.equal(described.protocol_type, 'consumer');
    assert.equal(described.protocol, 'range');
    assert.deepEqual(
      described.members.map((m: { client_id: string }) => m.client_id),
      ['a', 'b', 'c'],
    );
    const listedPartitions = described.members.flatMap(
      (m: { assignment: Record<string, number[]> }) => m.assignment[TOPIC],
    );
    assert.deepEqual(listedPartitions.sort(), [0, 1, 2, 3, 4, 5]);

    // Records flow in the background for the rest of the test.
    let producing = true;
    const producer = (async () => {
      while (producing) {
        await produceRound();
        await sleep(100);
      }
    })();

    const victim = b;
    await waitFor(
      'the victim to consume and commit',
      () => victim.of('commit').length >= 3,
      20_000,
      diagnostics,
    );
    const victimPartitions = victim.owned();
    await victim.kill9();
    const killedAt = victim.killedAt as number;

    await waitFor('the survivors to take over', () => everyoneOwns([a, c]), 30_000, diagnostics);
    const takeover = Math.max(...[a, c].flatMap((m) => m.of('assign').map((e) => e.t))) - killedAt;
    assert.ok(
      // Expiry, the heartbeat that learns of it, rejoin and sync: seconds on a loaded 2-core machine.
      takeover <= SESSION_TIMEOUT_S + 10,
      `survivors took over ${takeover.toFixed(1)} s after the kill (session timeout ${SESSION_TIMEOUT_S} s)`,
    );

    await sleep(1000);
    producing = false;
    await producer;
    const consumed = () => {
      const seen = new Set<string>();
      for (const m of members) for (const e of m.of('msg')) seen.add(`${e.p}:${e.o}`);
      return seen;
    };
    await waitFor(
      'every record to be consumed',
      () => {
        const seen = consumed();
        return produced.every((n, p) =>
          Array.from({ length: n }, (_, o) => seen.has(`${p}:${o}`)).every(Boolean),
        );
      },
      30_000,
      diagnostics,
    );
    assert.equal(await a.stop(), 0);
    assert.equal(await c.stop(), 0);
    const stoppedAt = Date.now() / 1000;
    for (const m of members)
      assert.deepEqual(m.of('dropped'), [], `${m.name} saw records of partitions it did not own`);

    for (let p = 0; p < PARTITIONS; p++) {
      assertOneOwnerAtATime(members, p, stoppedAt);
      // Every record came to a member while it owned the partition.
      for (const m of members) {
        const mine = m.intervals(stoppedAt).get(p) ?? [];
        for (const e of m.of('msg').filter((x) => x.p === p)) {
          assert.ok(
            mine.some(([s, end]) => s <= e.t && end >= (e.began as number)),
            `${m.name} got ${p}:${e.o} outside its ownership`,
          );
        }
      }
    }

    // At least once: duplicates only where the victim had consumed without committing.
    const victimCommits = victim.lastCommits();
    const counts = new Map<string, number>();
    for (const m of members)
      for (const e of m.of('msg')) counts.set(`${e.p}:${e.o}`, (counts.get(`${e.p}:${e.o}`) ?? 0) + 1);
    for (const [key, n] of counts) {
      if (n === 1) continue;
      const [p, o] = key.split(':').map(Number);
      assert.ok(victimPartitions.has(p), `${key} consumed ${n} times on a partition the victim did not own`);
      assert.ok(
        o >= (victimCommits.get(p) ?? 0),
        `${key} consumed ${n} times though the victim had committed past it`,
      );
      assert.ok(
        victim.of('msg').some((e) => e.p === p && e.o === o),
        `${key} consumed ${n} times without the victim having seen it`,
      );
    }
    // The survivors resumed the victim's partitions from its last commit.
    for (const p of victimPartitions) {
      const after = [a, c]
        .flatMap((m) => m.of('msg').filter((e) => e.p === p && e.t > killedAt))
        .map((e) => e.o as number);
      const first = Math.min(...after);
      const victimMax = Math.max(
        -1,
        ...victim
          .of('msg')
          .filter((e) => e.p === p)
          .map((e) => e.o as number),
      );
      assert.ok(
        first >= (victimCommits.get(p) ?? 0) && first <= victimMax + 1,
        `partition ${p} resumed at ${first}`,
      );
    }

    assert.deepEqual(await committedOffsets(), produced, 'the group committed everything it consumed');
  });

  test('committed offsets survive a broker restart (SIGTERM, then kill -9); a new member resumes where the group left', async () => {
    const before = await committedOffsets();
    assert.deepEqual(before, produced);
    conn.close();
    assert.equal(await broker.stop(), 0);
    await startOurBroker();
    assert.deepEqual(await committedOffsets(), before, 'after SIGTERM');

    for (let i = 0; i < 2; i++) await produceRound();
    const d = new Member('d', broker.bootstrap);
    members.push(d);
    const diagnostics = () => d.diagnostics() + `\nbroker:\n${broker.output().slice(-3000)}`;
    const caughtUp = () => {
      const commits = d.lastCommits();
      return produced.every((n, p) => commits.get(p) === n);
    };
    await waitFor('the new member to consume and commit the new records', caughtUp, 45_000, diagnostics);
    // It started where the group had left off: exactly the ten new records of each partition, once.
    const got = d.of('msg').map((e) => `${e.p}:${e.o}`);
    const expected = produced.flatMap((n, p) => Array.from({ length: 10 }, (_, i) => `${p}:${n - 10 + i}`));
    assert.deepEqual(got.sort(), expected.sort());

    // kill -9 with the member still in the group: its commits are on disk already.
    conn.close();
    await broker.kill9();
    await startOurBroker();
    assert.deepEqual(await committedOffsets(), produced, 'after kill -9');
    // The member carries on with the restarted broker: it gets and commits new records.
    await produceRound();
    await waitFor('the member to continue after the broker restart', caughtUp, 45_000, diagnostics);
    assert.equal(await d.stop(), 0);
    assert.deepEqual(await committedOffsets(), produced);
  });
  test('cooperative-sticky members move only the partitions they must, one owner at a time', async () => {
    const topic = 'coop-orders';
    const created = await conn.request(CreateTopics, {
      topics: [
        { name: topic, numPartitions: PARTITIONS, replicationFactor: 1, assignments: [], configs: [] },
      ],
      timeoutMs: 5000,
    });
    assert.equal(created.topics[0].errorCode, ErrorCode.NONE);
    const options = {
      topic,
      group: 'coop-group',
      config: ['partition.assignment.strategy=cooperative-sticky'],
    };
    const coop: Member[] = [];
    const diagnostics = () => coop.map((m) => m.diagnostics()).join('\n');
    const settled = (n: number) => () => {
      const owned = coop.map((m) => m.owned());
      return (
        coop.length === n &&
        owned.every((o) => o.size === PARTITIONS / n) &&
        new Set(owned.flatMap((o) => [...o])).size === PARTITIONS
      );
    };
    for (let n = 1; n <= 3; n++) {
      const m = new Member(`coop-${n}`, broker.bootstrap, options);
      coop.push(m);
      members.push(m);
      await waitFor(`${n} cooperative member(s) to settle`, settled(n), 30_000, diagnostics);
    }
    const final = coop.map((m) => m.owned());
    const revoked = coop.map((m) => m.of('revoke').flatMap((e) => e.partitions ?? []));
    for (const m of coop) assert.equal(await m.stop(), 0);
    const stoppedAt = Date.now() / 1000;

    // 1 -> 2 members moves three partitions, 2 -> 3 moves two: nothing else is revoked.
    assert.equal(revoked.flat().length, 5, `revoked: ${JSON.stringify(revoked)}`);
    coop.forEach((m, i) => {
      for (const p of final[i])
        assert.ok(!revoked[i].includes(p), `${m.name} had to give up ${p}, which it kept`);
    });
    // The first member never stopped consuming the partitions it kept.
    const first = coop[0].intervals(stoppedAt);
    for (const p of final[0]) assert.equal(first.get(p)?.length, 1, `coop-1 owned ${p} in one stretch`);
    for (let p = 0; p < PARTITIONS; p++) assertOneOwnerAtATime(coop, p, stoppedAt);
  });
});

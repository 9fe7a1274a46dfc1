import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { Connection, Consumer, Producer, type TopicPartition } from '@tributary/client';
import { ErrorCode, errorName, OffsetFetch } from '@tributary/protocol';
import { PYTHON, PYTHON_DIR, ROOT } from '../support/broker-process';
import type { History } from './history';
import { OFFSETS_TOPIC_PARTITIONS, TOPIC, type Topology } from './topology';

const CHAOS_PYTHON = path.join(ROOT, 'test', 'chaos', 'python');

/**
 * One part of the load: started before the faults, stopped after them, recording what it was
 * told into the History. A transactional producer (issue 13) is one more Workload whose acks
 * are the records of its committed transactions, and whose consumers read read_committed.
 */
export interface Workload {
  readonly name: string;
  start(): Promise<void>;
  /** Stops sending or consuming; resolves once what is in flight has settled. */
  stop(): Promise<void>;
}

export interface LoadOptions {
  readonly bootstrap: string;
  readonly partitions: number;
  /** Records per second of each producer. */
  readonly rate: number;
  readonly history: History;
  /** Where a client's own account of its errors goes (confluent-producer.log). */
  readonly logDir: string;
}

/** How many records our producer may have unacknowledged before it waits (a bound on memory during outages). */
const MAX_UNSETTLED = 5000;

/**
 * Our client's idempotent acks=all producer: record n is "ours-n", to partition n % partitions,
 * one send() per record so that each acknowledgement is recorded as it comes.
 */
export class OurProducer implements Workload {
  readonly name = 'ours';
  private producer: Producer | null = null;
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  private unsettled = 0;
  private readonly settledAll: (() => void)[] = [];
  /** Each failed send: when, which record, why. */
  private log: fs.WriteStream | null = null;

  constructor(private readonly o: LoadOptions) {}

  start(): Promise<void> {
    this.log = fs.createWriteStream(path.join(this.o.logDir, 'ours-producer.log'), { flags: 'a' });
    const producer = new Producer({
      bootstrapServers: this.o.bootstrap,
      clientId: 'chaos-ours',
      acks: 'all',
      idempotent: true,
      lingerMs: 5,
      deliveryTimeoutMs: 120_000,
      requestTimeoutMs: 10_000,
      retries: 1_000_000,
      allowAutoTopicCreation: false,
    });
    this.producer = producer;
    const started = Date.now();
    this.timer = setInterval(() => {
      const due = Math.floor(((Date.now() - started) / 1000) * this.o.rate);
      while (this.seq < due && this.unsettled < MAX_UNSETTLED) this.send(producer, this.seq++);
    }, 20);
    return Promise.resolve();
  }

  private send(producer: Producer, seq: number): void {
    const value = `${this.name}-${seq}`;
    const partition = seq % this.o.partitions;
    this.unsettled++;
    producer
      .send({ topic: TOPIC, messages: [{ key: value, value, partition }] })
      .then(
        ([r]) =>
          this.o.history.ack({
            producer: this.name,
            seq,
            partition: r.partition,
            offset: r.offset,
            value,
            t: Date.now(),
          }),
        (err: unknown) => {
          this.log?.write(
            `${new Date().toISOString()} ${value} to ${partition}: ${(err as Error).message}\n`,
          );
          this.o.history.failed(this.name, (err as Error).message);
        },
      )
      .finally(() => {
        if (--this.unsettled === 0) for (const w of this.settledAll.splice(0)) w();
      });
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    if (this.unsettled > 0) await new Promise<void>((resolve) => this.settledAll.push(resolve));
    await this.producer?.close().catch(() => undefined);
    this.log?.end();
  }
}

/** Lines of a child process' stdout, one callback each. */
function onLines(child: ChildProcess, each: (line: string) => void): void {
  readline.createInterface({ input: child.stdout! }).on('line', each);
}

/**
 * A confluent-kafka (librdkafka) idempotent acks=all producer, test/chaos/python/chaos_producer.py.
 * A fatal error ends that producer; another takes over the numbering where it stopped.
 */
export class ConfluentProducer implements Workload {
  readonly name = 'confluent';
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private next = 0;
  private stopping = false;
  private stderr = '';

  constructor(private readonly o: LoadOptions) {}

  start(): Promise<void> {
    this.launch();
    return Promise.resolve();
  }

  private launch(): void {
    const child = spawn(
      PYTHON,
      [
        path.join(CHAOS_PYTHON, 'chaos_producer.py'),
        this.o.bootstrap,
        TOPIC,
        String(this.o.partitions),
        String(this.o.rate),
        this.name,
        String(this.next),
      ],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.child = child;
    const log = fs.createWriteStream(path.join(this.o.logDir, 'confluent-producer.log'), { flags: 'a' });
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
      log.write(d);
    });
    child.once('exit', () => log.end());
    onLines(child, (line) => {
      const [kind, a, b, c, d] = line.split(' ');
      if (kind !== 'A') log.write(`${new Date().toISOString()} ${line}\n`);
      if (kind === 'A') {
        const seq = Number(d);
        this.next = Math.max(this.next, seq + 1);
        this.o.history.ack({
          producer: this.name,
          seq,
          partition: Number(b),
          offset: Number(c),
          value: `${this.name}-${seq}`,
          t: Number(a),
        });
      } else if (kind === 'E') {
        this.next = Math.max(this.next, Number(a) + 1);
        this.o.history.failed(this.name, line.split(' ').slice(2).join(' '));
      } else if (kind === 'F') this.o.history.note(`confluent producer: fatal: ${line.slice(2)}`);
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        if (!this.stopping) {
          this.o.history.note(
            `confluent producer exited (${code}), started again: ${this.stderr.slice(-300)}`,
          );
          // Numbers it may have sent without an outcome are skipped: every value stays unique.
          this.next += 100_000;
          setTimeout(() => this.stopping || this.launch(), 1000);
        }
        resolve();
      }),
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.child?.stdin?.end('stop\n');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 60_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface GroupOptions {
  readonly bootstrap: string;
  readonly group: string;
  readonly members: number;
  readonly history: History;
}

/**
 * Members of a consumer group on our client: manual commits of what was handed over, at most
 * every 500 ms and on revocation; a member whose run fails is replaced.
 */
export class OurGroup implements Workload {
  readonly name: string;
  private readonly consumers = new Set<Consumer>();
  private stopping = false;
  private readonly runs: Promise<void>[] = [];

  constructor(private readonly o: GroupOptions) {
    this.name = `group ${o.group}`;
  }

  start(): Promise<void> {
    for (let i = 1; i <= this.o.members; i++) this.runs.push(this.member(`${this.o.group}-${i}`));
    return Promise.resolve();
  }

  private async member(name: string): Promise<void> {
    while (!this.stopping) {
      const consumer = new Consumer({
        bootstrapServers: this.o.bootstrap,
        clientId: name,
        groupId: this.o.group,
        autoCommit: false,
        autoOffsetReset: 'earliest',
        sessionTimeoutMs: 6000,
        heartbeatIntervalMs: 1000,
        rebalanceTimeoutMs: 20_000,
        requestTimeoutMs: 10_000,
        retries: 1_000_000,
      });
      this.consumers.add(consumer);
      const commit = async (partitions: TopicPartition[]): Promise<void> => {
        const offsets = partitions
          .map((tp) => ({ ...tp, offset: consumer.position(tp) }))
          .filter((tp) => tp.offset >= 0);
        if (offsets.length === 0) return;
        // A revocation's commit may overlap the timer's: either may be applied last.
        const sent = Date.now();
        await consumer.commit(offsets);
        const t = Date.now();
        for (const c of offsets)
          this.o.history.offsets.push({
            group: this.o.group,
            source: 'commit',
            by: name,
            partition: c.partition,
            offset: c.offset,
            t,
            sent,
          });
      };
      consumer.subscribe([TOPIC], { onPartitionsRevoked: (tps) => commit(tps).catch(() => undefined) });
      // Commits on a timer rather than per batch, so the last records get committed too.
      let committing = false;
      const timer = setInterval(() => {
        if (committing) return;
        committing = true;
        void commit(consumer.assignment())
          .catch(() => undefined)
          .finally(() => (committing = false));
      }, 500);
      try {
        await consumer.run({
          eachBatch: (batch) => {
            for (const m of batch.messages) this.o.history.delivered(this.o.group, m.partition, m.offset);
          },
        });
      } catch (err) {
        this.o.history.note(`${name}: run failed, replaced: ${(err as Error).message}`);
      } finally {
        clearInterval(timer);
      }
      this.consumers.delete(consumer);
      await consumer.close().catch(() => undefined);
      if (!this.stopping) await new Promise((r) => setTimeout(r, 1000));
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.consumers].map((c) => c.stop()));
    await Promise.all(this.runs);
  }
}

/**
 * Members of a consumer group on confluent-kafka (test/interop/python/group_member.py): they
 * commit synchronously every 20 records, when a poll comes back empty, and on revocation.
 */
export class ConfluentGroup implements Workload {
  readonly name: string;
  private readonly children = new Set<ChildProcess>();
  private stopping = false;
  private readonly exits: Promise<void>[] = [];

  constructor(private readonly o: GroupOptions) {
    this.name = `group ${o.group}`;
  }

  start(): Promise<void> {
    for (let i = 1; i <= this.o.members; i++) this.launch(`${this.o.group}-${i}`);
    return Promise.resolve();
  }

  private launch(name: string): void {
    const child = spawn(
      PYTHON,
      [
        path.join(PYTHON_DIR, 'group_member.py'),
        this.o.bootstrap,
        TOPIC,
        this.o.group,
        name,
        'session.timeout.ms=6000',
        'heartbeat.interval.ms=1000',
      ],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.children.add(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    onLines(child, (line) => {
      if (!line.startsWith('{')) return;
      const ev = JSON.parse(line) as {
        ev: string;
        t: number;
        p?: number;
        o?: number;
        offsets?: Record<string, number>;
      };
      if (ev.ev === 'msg') this.o.history.delivered(this.o.group, ev.p!, ev.o!);
      else if (ev.ev === 'commit')
        for (const [p, offset] of Object.entries(ev.offsets ?? {}))
          this.o.history.offsets.push({
            group: this.o.group,
            source: 'commit',
            by: name,
            partition: Number(p),
            offset,
            t: ev.t * 1000,
          });
    });
    this.exits.push(
      new Promise((resolve) =>
        child.once('exit', (code) => {
          this.children.delete(child);
          if (!this.stopping) {
            this.o.history.note(`${name} exited (${code}), started again: ${stderr.slice(-300)}`);
            setTimeout(() => this.stopping || this.launch(name), 1000);
          }
          resolve();
        }),
      ),
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const c of this.children) c.stdin?.end('stop\n');
    const timer = setTimeout(() => this.children.forEach((c) => c.kill('SIGKILL')), 60_000);
    await Promise.all(this.exits);
    clearTimeout(timer);
  }
}

/** The __consumer_offsets partition of a group: abs(Java's String.hashCode) % partitions, as Kafka places it. */
export function offsetsPartitionFor(groupId: string, partitions: number): number {
  let h = 0;
  for (let i = 0; i < groupId.length; i++) h = (Math.imul(31, h) + groupId.charCodeAt(i)) | 0;
  return (h & 0x7fffffff) % partitions;
}

/**
 * Reads every group's committed offsets once a second from its legitimate coordinator: the
 * leader of the group's __consumer_offsets partition as the controller wrote it to Redis, with
 * OffsetFetch sent straight to it, and kept only if that leader and its epoch were the same
 * after the answer. (A deposed coordinator that has not heard of it yet may still answer with
 * what it had, as a Kafka broker cut off from its controller would; that is a stale read, not
 * a committed offset going back.)
 */
export class OffsetSampler implements Workload {
  readonly name = 'offset sampler';
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly topology: Topology,
    private readonly groups: readonly string[],
    private readonly history: History,
  ) {}

  start(): Promise<void> {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        for (const group of this.groups)
          await this.sample(group).catch((err: Error) =>
            this.history.failed(`offset sampler ${group}`, err.message),
          );
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    return Promise.resolve();
  }

  private async sample(group: string): Promise<void> {
    const partition = offsetsPartitionFor(group, OFFSETS_TOPIC_PARTITIONS);
    const before = await this.topology.sourceLeader('__consumer_offsets', partition);
    if (before === null || before.leader < 0) throw new Error('no coordinator in Redis');
    const conn = new Connection({
      host: '127.0.0.1',
      port: this.topology.source[before.leader - 1].client.port,
      clientId: 'chaos-sampler',
      requestTimeoutMs: 3000,
      connectTimeoutMs: 3000,
    });
    try {
      await conn.connect();
      const t = Date.now();
      const r = await conn.request(OffsetFetch, {
        groupId: group,
        topics: null,
        groups: [{ groupId: group, topics: null }],
        requireStable: false,
      });
      const answered = Date.now();
      const after = await this.topology.sourceLeader('__consumer_offsets', partition);
      if (after?.leader !== before.leader || after.epoch !== before.epoch)
        throw new Error('the coordinator changed during the OffsetFetch');
      const answer = conn.versionFor(OffsetFetch) >= 8 ? r.groups[0] : r;
      if (answer === undefined || answer.errorCode !== ErrorCode.NONE)
        throw new Error(
          `OffsetFetch answered ${answer === undefined ? 'no group' : errorName(answer.errorCode)}`,
        );
      for (const topic of answer.topics.filter((x) => x.name === TOPIC))
        for (const p of topic.partitions)
          if (p.errorCode === ErrorCode.NONE && p.committedOffset >= 0)
            this.history.offsets.push({
              group,
              source: 'fetch',
              by: `coordinator ${before.leader} (epoch ${before.epoch})`,
              partition: p.partitionIndex,
              offset: p.committedOffset,
              t,
              answered,
            });
    } finally {
      conn.close();
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

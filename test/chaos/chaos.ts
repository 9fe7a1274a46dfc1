import fs from 'node:fs';
import path from 'node:path';
import { Admin } from '@tributary/client';
import { tempDir } from '../support/broker-process';
import { readPartition } from '../support/mirror-process';
import {
  CHECKS,
  checkAcks,
  checkCommittedOffsets,
  checkDelivered,
  checkMirror,
  checkReplicas,
  checkResumed,
  longestSilences,
  resentUnderNewEpoch,
  type Finding,
  type ReplicaLogs,
  type Silence,
  type StoredRecord,
} from './checker';
import { History } from './history';
import {
  describeFault,
  FAULT_KINDS,
  Nemesis,
  planFaults,
  type FaultLogEntry,
  type PlannedFault,
} from './nemesis';
import { Prng } from './prng';
import { readStoredBatches } from './segments';
import { MIRROR_TOPIC, TOPIC, Topology } from './topology';
import {
  ConfluentGroup,
  ConfluentProducer,
  OffsetSampler,
  OurGroup,
  OurProducer,
  type Workload,
} from './workload';

export interface ChaosOptions {
  readonly seed: string;
  /** How long faults are injected. */
  readonly seconds: number;
  readonly partitions?: number;
  /** Records per second of each producer. */
  readonly rate?: number;
  readonly targetBrokers?: number;
  /** At most this many faults at once. */
  readonly maxConcurrent?: number;
  /** Only these kinds of fault (nemesis.ts FAULT_KINDS); all by default. */
  readonly faults?: readonly string[];
  /** The longest the settle period waits in all (each of its conditions has its own deadline too); 390 s by default. */
  readonly settleSeconds?: number;
  /** Where logs, the fault log and (on a failure) the data dirs stay; a temporary directory by default. */
  readonly dir?: string;
  /** Progress lines (the fault log as it happens). */
  readonly echo?: (line: string) => void;
}

export interface ChaosReport {
  readonly seed: string;
  readonly seconds: number;
  readonly plan: readonly PlannedFault[];
  readonly faultLog: readonly FaultLogEntry[];
  /** Faults begun, by kind (nemesis.ts FAULT_KINDS). */
  readonly injected: Readonly<Record<string, number>>;
  /** Planned faults not begun (their process was down or busy), and faults whose healing failed. */
  readonly skipped: number;
  readonly failedToHeal: number;
  readonly findings: readonly Finding[];
  /** Per partition, the longest time without an acknowledged write while faults ran: from any producer, and from each. */
  readonly silences: Readonly<Record<string, readonly Silence[]>>;
  readonly counts: Readonly<Record<string, number>>;
  readonly notes: readonly string[];
  readonly dir: string;
  readonly faultsFrom: number;
}

const GROUPS = { ours: 'chaos-group-ours', confluent: 'chaos-group-confluent' };
const SOURCE_GROUPS = [GROUPS.ours, GROUPS.confluent];

/** Polls `check` (at least once) until it returns a value, or returns undefined after `ms`. */
async function within<T>(ms: number, check: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * One run of the nemesis suite: the topology, the workload, the planned faults for
 * `seconds`, healing, a settle period waiting on conditions with deadlines, then the checker.
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const began = Date.now();
  const echo = o.echo ?? (() => undefined);
  const phase = (what: string) =>
    echo(`chaos: ${what} (${((Date.now() - began) / 1000).toFixed(0)} s into the run)`);
  const partitions = o.partitions ?? 6;
  const rate = o.rate ?? 150;
  const targetBrokers = o.targetBrokers ?? 2;
  const dir = o.dir ?? tempDir('chaos');
  fs.mkdirSync(dir, { recursive: true });
  const plan = planFaults(new Prng(o.seed), {
    durationMs: o.seconds * 1000,
    targetBrokers,
    maxConcurrent: o.maxConcurrent ?? 3,
    kinds: o.faults,
  });
  fs.writeFileSync(
    path.join(dir, 'plan.txt'),
    plan.map((p) => `+${(p.at / 1000).toFixed(1)} s ${describeFault(p.fault)}`).join('\n') + '\n',
  );
  echo(`chaos: seed ${o.seed}, ${o.seconds} s of faults (${plan.length} planned), logs in ${dir}`);
  const notes: string[] = [];
  const note = (what: string): void => {
    notes.push(what);
    echo(`note: ${what}`);
  };
  const topology = await Topology.start({ partitions, targetBrokers, dir });
  const history = new History();
  const workloads: Workload[] = [];
  let nemesis: Nemesis | null = null;
  let faultsFrom = Date.now();
  let keepData = true;
  try {
    const source = new Admin({ bootstrapServers: topology.sourceBootstrap, clientId: 'chaos-checker' });
    const target = new Admin({ bootstrapServers: topology.targetBootstrap, clientId: 'chaos-checker' });
    try {
      const inSync = async (admin: Admin, topics: string[], replicas: number) => {
        const described = await admin.describeTopics(topics);
        return described.length === topics.length &&
          described.every(
            (t) =>
              t.partitions.length > 0 &&
              t.partitions.every((p) => p.leader >= 0 && p.isr.length === replicas),
          )
          ? true
          : undefined;
      };
      if ((await within(60_000, () => inSync(source, [TOPIC], 3))) === undefined)
        throw new Error(`${TOPIC} did not get leaders and a full ISR`);

      const load = { bootstrap: topology.sourceBootstrap, partitions, rate, history, logDir: dir };
      const producers = [new OurProducer(load), new ConfluentProducer(load)];
      const consumers = [
        new OurGroup({ bootstrap: topology.sourceBootstrap, group: GROUPS.ours, members: 2, history }),
        new ConfluentGroup({
          bootstrap: topology.sourceBootstrap,
          group: GROUPS.confluent,
          members: 2,
          history,
        }),
        new OffsetSampler(topology, SOURCE_GROUPS, history),
      ];
      workloads.push(...producers, ...consumers);
      for (const w of workloads) await w.start();
      const warm = await within(60_000, async () =>
        producers.every((p) => history.acks.some((a) => a.producer === p.name)) ? true : undefined,
      );
      if (warm === undefined)
        throw new Error('the producers had nothing acknowledged within 60 s of starting');

      phase('the workload runs, faults begin');
      faultsFrom = Date.now();
      nemesis = new Nemesis(topology, plan, echo);
      const n = nemesis;
      const guard = setTimeout(() => void n.healAll(), o.seconds * 1000 + 60_000);
      await nemesis.run();
      clearTimeout(guard);
      const faultsTo = Date.now();
      phase('faults over, settling');
      const settleBy = faultsTo + (o.settleSeconds ?? 390) * 1000;
      const settle = <T>(ms: number, check: () => Promise<T | undefined>) =>
        within(Math.max(0, Math.min(ms, settleBy - Date.now())), check);

      // Settle: everything up, every replica back in sync, writes acknowledged again.
      for (const p of topology.processes)
        if (p.state === 'down') {
          note(`${p.name} was still down after the faults; starting it`);
          await p.start();
        }
      if ((await settle(120_000, () => inSync(source, [TOPIC, '__consumer_offsets'], 3))) === undefined)
        note('the source cluster did not get every partition a leader and a full ISR within 120 s');
      phase('every replica in sync');
      const names = producers.map((p) => p.name);
      const resumed = () => checkResumed(history.acks, names, partitions, faultsTo).length === 0;
      await settle(60_000, async () => (resumed() ? true : undefined));
      phase('writes resumed');
      for (const p of producers) await p.stop();
      phase('producers stopped');

      const ends = async (admin: Admin, topic: string) =>
        (
          await admin.listOffsets(
            Array.from({ length: partitions }, (_, partition) => ({ topic, partition })),
            'latest',
          )
        ).map((e) => e.offset);
      const sourceEnds = await ends(source, TOPIC);
      const caughtUp = await settle(90_000, async () => {
        for (const g of SOURCE_GROUPS) {
          const c = await source.fetchOffsets(g);
          if (!sourceEnds.every((end, p) => c.some((x) => x.partition === p && x.offset >= end)))
            return undefined;
        }
        return true;
      });
      if (caughtUp === undefined)
        for (const g of SOURCE_GROUPS) {
          const c = await source.fetchOffsets(g).catch(() => []);
          note(
            `${g} did not commit up to the log end within 90 s: committed ${sourceEnds.map((end, p) => `${p}:${c.find((x) => x.partition === p)?.offset ?? -1}/${end}`).join(' ')}`,
          );
        }
      phase('groups caught up');
      for (const c of consumers) await c.stop();
      phase('consumers stopped');
      // The final committed offsets, also the last reading of each series.
      const committed = new Map<string, Map<number, number>>();
      for (const g of SOURCE_GROUPS) {
        const t = Date.now();
        const final = (await source.fetchOffsets(g)).filter((c) => c.topic === TOPIC);
        const answered = Date.now();
        for (const c of final)
          history.offsets.push({
            group: g,
            source: 'fetch',
            by: 'chaos-checker',
            partition: c.partition,
            offset: c.offset,
            t,
            answered,
          });
        committed.set(g, new Map(final.map((c) => [c.partition, c.offset])));
      }

      const mirrored = await settle(120_000, async () =>
        (await inSync(target, [MIRROR_TOPIC], Math.min(3, targetBrokers))) &&
        (await ends(target, MIRROR_TOPIC)).every((end, p) => end === sourceEnds[p])
          ? true
          : undefined,
      );
      if (mirrored === undefined) note(`the mirror topic did not reach the source's ends within 120 s`);

      phase('reading every partition and replica');
      const read = async (bootstrap: string, topic: string) => {
        const records = await Promise.all(
          Array.from({ length: partitions }, (_, p) => readPartition(bootstrap, topic, p)),
        );
        return new Map(
          records.map((rs, p) => [
            p,
            rs.map((r): StoredRecord => ({ offset: r.offset, key: r.key, value: r.value })),
          ]),
        );
      };
      // Each record with its batch's producer id and epoch, from one replica's segments.
      const stored = new Map(
        [...(await read(topology.sourceBootstrap, TOPIC))].map(([p, records]) => {
          const batches = readStoredBatches(topology.source[0].dataDir, TOPIC, p);
          let b = 0;
          return [
            p,
            records.map((r) => {
              while (b < batches.length && batches[b].lastOffset < r.offset) b++;
              const batch = batches[b];
              return batch !== undefined && batch.baseOffset <= r.offset
                ? { ...r, producer: { id: batch.producerId, epoch: batch.producerEpoch } }
                : r;
            }),
          ];
        }),
      );
      const resent = resentUnderNewEpoch(stored);
      const mirror = await read(topology.targetBootstrap, MIRROR_TOPIC);
      const replicaLogs = async (
        admin: Admin,
        topic: string,
        brokers: readonly { nodeId: number; dataDir: string }[],
        cluster: string,
      ): Promise<ReplicaLogs[]> => {
        const hws = await ends(admin, topic);
        return hws.map((highWatermark, p) => ({
          partition: `${cluster} ${topic}-${p}`,
          highWatermark,
          replicas: brokers.map((b) => ({
            replica: `broker ${b.nodeId}`,
            batches: readStoredBatches(b.dataDir, topic, p),
          })),
        }));
      };
      const replicas = [
        ...(await replicaLogs(source, TOPIC, topology.source, 'source')),
        ...(targetBrokers > 1 ? await replicaLogs(target, MIRROR_TOPIC, topology.target, 'target') : []),
      ];

      const findings = [
        ...checkAcks(history.acks, stored, resent),
        ...checkReplicas(replicas),
        ...checkCommittedOffsets(history.offsets),
        ...checkDelivered(history.acks, history.consumed, committed),
        ...checkMirror(stored, mirror),
        ...checkResumed(history.acks, names, partitions, faultsTo),
      ];
      keepData = findings.length > 0;
      const counts: Record<string, number> = {};
      for (const p of producers) {
        const acked = history.acks.filter((a) => a.producer === p.name);
        counts[`${p.name}: acknowledged`] = acked.length;
        counts[`${p.name}: acknowledged without an offset`] = acked.filter((a) => a.offset < 0).length;
        counts[`${p.name}: failed sends`] = [...(history.failures.get(p.name)?.values() ?? [])].reduce(
          (n, c) => n + c,
          0,
        );
      }
      for (const [who, failures] of history.failures)
        for (const [reason, c] of failures) notes.push(`${who}: ${c} failed: ${reason}`);
      for (const g of SOURCE_GROUPS) {
        counts[`${g}: offsets delivered`] = [...(history.consumed.get(g)?.values() ?? [])].reduce(
          (n, s) => n + s.size,
          0,
        );
        counts[`${g}: commits`] = history.offsets.filter(
          (x) => x.group === g && x.source === 'commit',
        ).length;
        counts[`${g}: offset fetches`] = history.offsets.filter(
          (x) => x.group === g && x.source === 'fetch',
        ).length;
      }
      counts['records a client re-sent under a new producer epoch (not duplicates of the broker)'] =
        resent.size;
      counts['records stored'] = [...stored.values()].reduce((n, r) => n + r.length, 0);
      counts['records mirrored'] = [...mirror.values()].reduce((n, r) => n + r.length, 0);
      counts['replica batches compared'] = replicas.reduce(
        (n, r) => n + r.replicas.reduce((m, x) => m + x.batches.length, 0),
        0,
      );
      for (const x of history.notes) notes.push(`+${((x.t - faultsFrom) / 1000).toFixed(1)} s ${x.what}`);
      return {
        seed: o.seed,
        seconds: o.seconds,
        plan,
        faultLog: nemesis.log,
        injected: Object.fromEntries(nemesis.injected),
        skipped: nemesis.skipped,
        failedToHeal: nemesis.failed,
        findings,
        silences: Object.fromEntries([
          ['any producer', longestSilences(history.acks, partitions, faultsFrom, faultsTo)],
          ...producers.map((p) => [
            p.name,
            longestSilences(
              history.acks.filter((a) => a.producer === p.name),
              partitions,
              faultsFrom,
              faultsTo,
            ),
          ]),
        ]),
        counts,
        notes,
        dir,
        faultsFrom,
      };
    } finally {
      await source.close();
      await target.close();
    }
  } finally {
    await nemesis?.healAll();
    for (const w of workloads) await w.stop().catch(() => undefined);
    if (keepData) history.save(dir);
    if (nemesis !== null)
      fs.writeFileSync(
        path.join(dir, 'fault-log.txt'),
        nemesis.log.map((e) => `+${(e.t / 1000).toFixed(1)} s ${e.what}`).join('\n') + '\n',
      );
    await topology.stop();
    if (!keepData)
      for (const b of [...topology.source, ...topology.target])
        fs.rmSync(b.dataDir, { recursive: true, force: true });
  }
}

/** The report as text: the seed, the summary table, availability, and on findings the fault log. */
export function formatReport(r: ChaosReport): string {
  const lines: string[] = [];
  const injected = Object.values(r.injected).reduce((n, c) => n + c, 0);
  lines.push(
    `seed ${r.seed}: ${r.seconds} s of faults, ${r.plan.length} planned, ${injected} injected, ${r.skipped} skipped, ${r.failedToHeal} failed to heal`,
  );
  lines.push(`injected by kind: ${FAULT_KINDS.map(([k]) => `${k} ${r.injected[k] ?? 0}`).join(', ')}`);
  lines.push('');
  const width = Math.max(...CHECKS.map((c) => c.length));
  lines.push(`${'check'.padEnd(width)}  findings`);
  for (const c of CHECKS) lines.push(`${c.padEnd(width)}  ${r.findings.filter((f) => f.check === c).length}`);
  lines.push('');
  for (const [k, v] of Object.entries(r.counts)) lines.push(`${k}: ${v}`);
  lines.push('');
  lines.push(
    'longest time without an acknowledged write while faults ran (s, from when to when after they began):',
  );
  const columns = Object.keys(r.silences);
  const at = (ms: number) => `+${((ms - r.faultsFrom) / 1000).toFixed(1)}`;
  lines.push(`  ${'partition'.padEnd(10)}${columns.map((c) => c.padEnd(24)).join('')}`);
  for (let p = 0; p < (r.silences[columns[0]]?.length ?? 0); p++)
    lines.push(
      `  ${`${TOPIC}-${p}`.padEnd(10)}${columns
        .map((c) => {
          const s = r.silences[c][p];
          return `${(s.ms / 1000).toFixed(1)} (${at(s.from)}..${at(s.to)})`.padEnd(24);
        })
        .join('')}`,
    );
  if (r.notes.length > 0) {
    lines.push('');
    lines.push('notes:');
    for (const n of r.notes) lines.push(`  ${n}`);
  }
  if (r.findings.length > 0) {
    lines.push('');
    lines.push('findings (first 20 of each check):');
    for (const c of CHECKS)
      for (const f of r.findings.filter((x) => x.check === c).slice(0, 20)) lines.push(`  ${c}: ${f.detail}`);
    lines.push('');
    lines.push('fault log:');
    for (const e of r.faultLog) lines.push(`  +${(e.t / 1000).toFixed(1)} s ${e.what}`);
    lines.push('');
    lines.push(
      `replay: CHAOS_SEED=${r.seed} CHAOS_SECONDS=${r.seconds} npm run chaos; logs and data in ${r.dir}`,
    );
  }
  return lines.join('\n');
}

import type { CutMode } from './link-proxy';
import type { ManagedProcess } from './processes';
import type { Prng } from './prng';
import type { Topology } from './topology';

/**
 * A process the plan names: a concrete one ("source-broker-2", "mirror-redis", "worker-1",
 * "target-broker-1"), or "controller", resolved when the fault starts from the lease in Redis.
 */
export type ProcessRef = string;

export type Fault =
  /** kill -9, restarted after `ms`. */
  | { readonly kind: 'kill'; readonly process: ProcessRef; readonly ms: number }
  /** SIGSTOP, SIGCONT after `ms` (longer than the session and lock timeouts). */
  | { readonly kind: 'pause'; readonly process: ProcessRef; readonly ms: number }
  /** Clients (all, or those whose client id starts with `clients`) cannot reach a source broker. */
  | {
      readonly kind: 'cut-clients';
      readonly broker: number;
      readonly clients: string;
      readonly mode: CutMode;
      readonly ms: number;
    }
  /** Broker `a` cannot fetch from `b` (and, unless oneWay, `b` not from `a`). */
  | {
      readonly kind: 'cut-brokers';
      readonly a: number;
      readonly b: number;
      readonly oneWay: boolean;
      readonly mode: CutMode;
      readonly ms: number;
    }
  /** A source broker cannot reach Redis. */
  | { readonly kind: 'cut-redis'; readonly broker: number; readonly mode: CutMode; readonly ms: number }
  /** A source broker reaches neither Redis nor the other brokers, nor they it; clients still reach it. */
  | { readonly kind: 'isolate'; readonly broker: number; readonly mode: CutMode; readonly ms: number };

export interface PlannedFault {
  /** When it starts, ms after the faults began. */
  readonly at: number;
  readonly fault: Fault;
}

/** Client id prefixes of the workload's clients (see workload.ts and the mirror's default client id). */
export const CLIENT_GROUPS = [
  'chaos-ours',
  'confluent',
  'chaos-group-ours',
  'chaos-group-confluent',
  'tributary-mirror-',
  'chaos-sampler',
];

export function describeFault(f: Fault): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  switch (f.kind) {
    case 'kill':
      return `kill -9 ${f.process}, restart after ${s(f.ms)}`;
    case 'pause':
      return `SIGSTOP ${f.process} for ${s(f.ms)}`;
    case 'cut-clients':
      return `cut ${f.clients === '' ? 'all clients' : `clients ${f.clients}*`} from source-broker-${f.broker} (${f.mode}) for ${s(f.ms)}`;
    case 'cut-brokers':
      return `cut source-broker-${f.a} ${f.oneWay ? '->' : '<->'} source-broker-${f.b} (${f.mode}) for ${s(f.ms)}`;
    case 'cut-redis':
      return `cut source-broker-${f.broker} from its Redis (${f.mode}) for ${s(f.ms)}`;
    case 'isolate':
      return `isolate source-broker-${f.broker} from Redis and the other brokers (${f.mode}) for ${s(f.ms)}`;
  }
}

/** The FAULT_KINDS name of a fault ("kill-controller", "cut-redis", ...), by which a report counts them. */
export function faultKind(f: Fault): string {
  if (f.kind !== 'kill' && f.kind !== 'pause') return f.kind;
  const p = f.process;
  const what =
    p === 'controller'
      ? 'controller'
      : p.startsWith('source-broker-')
        ? 'broker'
        : p.startsWith('target-broker-')
          ? 'target'
          : p.endsWith('-redis')
            ? 'redis'
            : 'worker';
  return `${f.kind}-${what}`;
}

/** The resources a fault holds while it lasts: two faults on one resource never overlap. */
function resources(f: Fault): string[] {
  switch (f.kind) {
    case 'kill':
    case 'pause':
      return [f.process];
    case 'cut-clients':
      return [`clients->${f.broker}`];
    case 'cut-brokers':
      return [`link ${Math.min(f.a, f.b)}-${Math.max(f.a, f.b)}`];
    case 'cut-redis':
      return [`${f.broker}->redis`];
    case 'isolate':
      return [
        `${f.broker}->redis`,
        ...[1, 2, 3]
          .filter((b) => b !== f.broker)
          .map((b) => `link ${Math.min(b, f.broker)}-${Math.max(b, f.broker)}`),
      ];
  }
}

const isSourceBrokerFault = (f: Fault): boolean =>
  (f.kind === 'kill' || f.kind === 'pause') &&
  (f.process === 'controller' || f.process.startsWith('source-broker-'));

/** The kinds of fault the plan draws from, and how often each is drawn relative to the others. */
export const FAULT_KINDS: readonly (readonly [string, number])[] = [
  ['kill-broker', 3],
  ['kill-controller', 2],
  ['pause-broker', 2],
  ['pause-controller', 1.5],
  ['kill-redis', 1.5],
  ['pause-redis', 0.5],
  ['kill-worker', 1.5],
  ['pause-worker', 1],
  ['kill-target', 1],
  ['cut-clients', 2],
  ['cut-brokers', 2],
  ['cut-redis', 1.5],
  ['isolate', 1.5],
];

export interface PlanOptions {
  readonly durationMs: number;
  readonly targetBrokers: number;
  /** At most this many faults at once. */
  readonly maxConcurrent: number;
  /** Only these kinds of FAULT_KINDS (all by default): a hunt for one kind of failure. */
  readonly kinds?: readonly string[];
}

/**
 * The whole fault schedule, drawn from the seed alone before anything starts, so that the
 * same seed gives the same plan whatever the processes do. Faults overlap (up to
 * maxConcurrent), never on the same resource, and at most two of the three source brokers
 * are killed or paused at once (the cluster can still elect; with all three gone there is
 * nothing to check but the restart).
 */
export function planFaults(rng: Prng, o: PlanOptions): PlannedFault[] {
  const plan: PlannedFault[] = [];
  const active: { until: number; fault: Fault }[] = [];
  const sourceBrokers = [1, 2, 3];
  const mode = (): CutMode => (rng.chance(0.5) ? 'drop' : 'hang');
  const kinds = FAULT_KINDS.filter(([k]) => o.kinds === undefined || o.kinds.includes(k));
  if (kinds.length === 0) throw new Error(`no fault kinds among ${o.kinds?.join(', ')}`);
  const draw = (): Fault => {
    const kind = rng.weighted(kinds);
    switch (kind) {
      case 'kill-broker':
        return {
          kind: 'kill',
          process: `source-broker-${rng.pick(sourceBrokers)}`,
          ms: rng.int(500, 15_000),
        };
      case 'kill-controller':
        return { kind: 'kill', process: 'controller', ms: rng.int(500, 15_000) };
      case 'pause-broker':
        return {
          kind: 'pause',
          process: `source-broker-${rng.pick(sourceBrokers)}`,
          ms: rng.int(3500, 15_000),
        };
      case 'pause-controller':
        return { kind: 'pause', process: 'controller', ms: rng.int(3500, 15_000) };
      case 'kill-redis':
        return {
          kind: 'kill',
          process: rng.weighted([
            ['source-redis', 3],
            ['target-redis', 1],
            ['mirror-redis', 1],
          ]),
          ms: rng.int(500, 10_000),
        };
      case 'pause-redis':
        return { kind: 'pause', process: 'source-redis', ms: rng.int(1000, 10_000) };
      case 'kill-worker':
        return { kind: 'kill', process: `worker-${rng.int(1, 2)}`, ms: rng.int(500, 15_000) };
      case 'pause-worker':
        return { kind: 'pause', process: `worker-${rng.int(1, 2)}`, ms: rng.int(2500, 12_000) };
      case 'kill-target':
        return {
          kind: 'kill',
          process: `target-broker-${rng.int(1, o.targetBrokers)}`,
          ms: rng.int(500, 15_000),
        };
      case 'cut-clients':
        return {
          kind: 'cut-clients',
          broker: rng.pick(sourceBrokers),
          clients: rng.chance(0.4) ? '' : rng.pick(CLIENT_GROUPS),
          mode: mode(),
          ms: rng.int(2000, 20_000),
        };
      case 'cut-brokers': {
        const a = rng.pick(sourceBrokers);
        const b = rng.pick(sourceBrokers.filter((x) => x !== a));
        return {
          kind: 'cut-brokers',
          a,
          b,
          oneWay: rng.chance(0.3),
          mode: mode(),
          ms: rng.int(2000, 20_000),
        };
      }
      case 'cut-redis':
        return {
          kind: 'cut-redis',
          broker: rng.pick(sourceBrokers),
          mode: mode(),
          ms: rng.int(2000, 20_000),
        };
      default:
        return { kind: 'isolate', broker: rng.pick(sourceBrokers), mode: mode(), ms: rng.int(3000, 20_000) };
    }
  };
  for (let at = rng.int(1000, 5000); at < o.durationMs - 1000; at += rng.int(1000, 8000)) {
    const fault = draw();
    const live = active.filter((a) => a.until > at);
    active.splice(0, active.length, ...live);
    const held = new Set(live.flatMap((a) => resources(a.fault)));
    const brokersDown = live.filter((a) => isSourceBrokerFault(a.fault)).length;
    if (
      live.length >= o.maxConcurrent ||
      resources(fault).some((r) => held.has(r)) ||
      (isSourceBrokerFault(fault) && brokersDown >= 2)
    )
      continue;
    // Every fault heals before the fault period ends.
    const ms = Math.min(fault.ms, o.durationMs - at);
    const bounded = { ...fault, ms } as Fault;
    plan.push({ at, fault: bounded });
    active.push({ until: at + ms, fault: bounded });
  }
  return plan;
}

/** What happened, when (ms after the faults began). */
export interface FaultLogEntry {
  readonly t: number;
  readonly what: string;
}

/** Carries out a plan against a topology, logging every action and how it went. */
export class Nemesis {
  readonly log: FaultLogEntry[] = [];
  /** Faults begun, by kind (faultKind). */
  readonly injected = new Map<string, number>();
  /** Planned faults not begun (their process was down or under another fault), and faults that would not heal. */
  skipped = 0;
  failed = 0;
  /** Processes under a fault now (a fault never starts on one). */
  private readonly busy = new Set<string>();
  private started = 0;
  private stopped = false;
  private signalStop: () => void = () => undefined;
  private readonly stopping = new Promise<void>((resolve) => (this.signalStop = resolve));
  private readonly pending: Promise<void>[] = [];

  constructor(
    private readonly topology: Topology,
    private readonly plan: readonly PlannedFault[],
    private readonly echo: (line: string) => void = () => undefined,
  ) {}

  private note(what: string): void {
    const t = Date.now() - this.started;
    this.log.push({ t, what });
    this.echo(`[+${(t / 1000).toFixed(1)} s] ${what}`);
  }

  /** Waits `ms`, or less if the nemesis is stopped meanwhile. */
  private async sleep(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise((r) => (timer = setTimeout(r, ms))), this.stopping]);
    clearTimeout(timer);
  }

  /** Runs the plan from now until its last fault has begun and every fault has healed. */
  async run(): Promise<void> {
    this.started = Date.now();
    for (const { at, fault } of this.plan) {
      await this.sleep(this.started + at - Date.now());
      if (this.stopped) break;
      this.pending.push(this.inject(fault));
    }
    await Promise.all(this.pending);
  }

  /** Heals every fault in force now and starts no more. */
  async healAll(): Promise<void> {
    this.stopped = true;
    this.signalStop();
    await Promise.all(this.pending);
  }

  private process(name: string): ManagedProcess {
    const p = this.topology.processes.find((x) => x.name === name);
    if (p === undefined) throw new Error(`no process ${name}`);
    return p;
  }

  private async inject(fault: Fault): Promise<void> {
    let name = '';
    let resolved = '';
    if (fault.kind === 'kill' || fault.kind === 'pause') {
      name = fault.process;
      if (name === 'controller') {
        const c = await this.topology.sourceController();
        if (c === null) {
          this.note(`skipped: ${describeFault(fault)}: no controller holds the lease`);
          this.skipped++;
          return;
        }
        name = `source-broker-${c}`;
        resolved = ` (${name})`;
      }
      const state = this.busy.has(name) ? 'under another fault' : this.process(name).state;
      if (state !== 'running') {
        this.note(`skipped: ${describeFault(fault)}: ${name} is ${state}`);
        this.skipped++;
        return;
      }
      // The plan keeps two source brokers down at most by the faults' lengths, but a restart on
      // a loaded machine takes longer than planned: the processes' states are what count.
      const sourceBrokers = this.topology.source.map((b) => b.process);
      if (
        name.startsWith('source-broker-') &&
        sourceBrokers.filter((p) => p.state !== 'running' || this.busy.has(p.name)).length >= 2
      ) {
        this.note(`skipped: ${describeFault(fault)}: two source brokers are down or paused already`);
        this.skipped++;
        return;
      }
      this.busy.add(name);
    }
    this.note(`${describeFault(fault)}${resolved}`);
    const kind = faultKind(fault);
    this.injected.set(kind, (this.injected.get(kind) ?? 0) + 1);
    try {
      const heal = await this.begin(fault, name);
      await this.sleep(fault.ms);
      await heal();
    } catch (err) {
      // A process that would not come back is left down: the settle phase tries again and says so.
      this.note(`error: ${describeFault(fault)}: ${(err as Error).message.split('\n')[0]}`);
      this.failed++;
    } finally {
      this.busy.delete(name);
    }
  }

  /** Starts a fault; resolves with what heals it. */
  private async begin(fault: Fault, name: string): Promise<() => Promise<void>> {
    const t = this.topology;
    const broker = (n: number) => t.source[n - 1];
    switch (fault.kind) {
      case 'kill': {
        const p = this.process(name);
        await p.kill9();
        return async () => {
          const began = Date.now();
          for (let attempt = 1; ; attempt++) {
            try {
              await p.start();
              this.note(`${name} restarted (${Date.now() - began} ms)`);
              return;
            } catch (err) {
              this.note(
                `${name} failed to restart (attempt ${attempt}): ${(err as Error).message.split('\n')[0]}`,
              );
              if (attempt >= 3) throw err;
              await new Promise((r) => setTimeout(r, 1000));
            }
          }
        };
      }
      case 'pause': {
        const p = this.process(name);
        p.pause();
        return () => {
          p.resume();
          this.note(`${name} continued (SIGCONT)`);
          return Promise.resolve();
        };
      }
      case 'cut-clients': {
        const heal = broker(fault.broker).client.cut(
          (peer) => !peer.startsWith('broker-') && peer.startsWith(fault.clients),
          fault.mode,
        );
        return this.healing(heal, `clients ${fault.clients}* reach source-broker-${fault.broker} again`);
      }
      case 'cut-brokers': {
        const fetchesFrom = (follower: number) => (peer: string) => peer.startsWith(`broker-${follower}-`);
        const heals = [broker(fault.b).replication.cut(fetchesFrom(fault.a), fault.mode)];
        if (!fault.oneWay) heals.push(broker(fault.a).replication.cut(fetchesFrom(fault.b), fault.mode));
        return this.healing(
          () => heals.forEach((h) => h()),
          `source-broker-${fault.a} and source-broker-${fault.b} reach each other again`,
        );
      }
      case 'cut-redis': {
        const heal = broker(fault.broker).redis.cut(() => true, fault.mode);
        return this.healing(heal, `source-broker-${fault.broker} reaches Redis again`);
      }
      case 'isolate': {
        const n = fault.broker;
        const others = [1, 2, 3].filter((b) => b !== n);
        const heals = [
          broker(n).redis.cut(() => true, fault.mode),
          broker(n).replication.cut((peer) => peer.startsWith('broker-'), fault.mode),
          ...others.map((b) =>
            broker(b).replication.cut((peer) => peer.startsWith(`broker-${n}-`), fault.mode),
          ),
        ];
        return this.healing(() => heals.forEach((h) => h()), `source-broker-${n} is no longer isolated`);
      }
    }
  }

  private healing(heal: () => void, what: string): () => Promise<void> {
    return () => {
      heal();
      this.note(what);
      return Promise.resolve();
    };
  }
}

import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { ClusterClients } from './cluster-clients';
import type { MirrorConfig } from './config';
import { FlowManager, unitJobId, type UnitJobData } from './flow-manager';
import { MirrorControl } from './mirror-control';
import { MirrorStore } from './mirror-store';
import { connectRedis, keepConnected, type RedisEndpoint } from './redis-endpoint';
import { sleep } from './sleep';
import { UnitRunner, type UnitOutcome } from './unit-runner';

export interface MirrorLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface MirrorOptions {
  /** Run the units here (a worker); default true. */
  readonly work?: boolean;
  /** Run the flows' control plane here (topic discovery, checkpoints, heartbeats); default true. */
  readonly manage?: boolean;
}

/** How long a unit waits before it runs again after each way a run ends. */
const RERUN_DELAY_MS: Record<Exclude<UnitOutcome, 'done'> | 'failed', number> = {
  yield: 0,
  paused: 1000,
  busy: 200,
  handover: 500,
  error: 5000,
  failed: 1000,
};

/**
 * The replicator in one process: BullMQ workers that run the units (one per source
 * partition and flow) this process holds, and the flows' managers. Any number of processes
 * on any number of machines share one Redis: BullMQ hands each unit to one worker at a time,
 * and a dead worker's units return to the queue when its locks lapse (lock.duration.ms).
 */
export class Mirror {
  private readonly clients = new Map<string, ClusterClients>();
  private readonly managers: FlowManager[] = [];
  private redis: Redis | null = null;
  private workerRedis: Redis | null = null;
  private store: MirrorStore | null = null;
  private controlInstance: MirrorControl | null = null;
  private queue: Queue<UnitJobData> | null = null;
  private worker: Worker<UnitJobData> | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private closing = false;
  private active = 0;
  /** The units this worker runs now, by job id (what its heartbeat tells the console). */
  private readonly running = new Set<string>();

  constructor(
    readonly config: MirrorConfig,
    /** A function when it is known only at start (the demo's private redis-server). */
    private readonly redisEndpoint: RedisEndpoint | (() => RedisEndpoint),
    private readonly logger: MirrorLogger,
  ) {}

  private clientsFor(alias: string): ClusterClients {
    let c = this.clients.get(alias);
    if (c === undefined) {
      const cfg = this.config.clusters.get(alias);
      if (cfg === undefined) throw new Error(`unknown cluster ${alias}`);
      c = new ClusterClients(cfg);
      this.clients.set(alias, c);
    }
    return c;
  }

  /** Status and operations (pause, throttle, promote, failover, ...) over this deployment. */
  get control(): MirrorControl {
    if (this.controlInstance === null) throw new Error('the mirror is not started');
    return this.controlInstance;
  }

  async start(options: MirrorOptions = {}): Promise<void> {
    // Commands fail fast while Redis is away (loops record the error and go on); BullMQ's worker needs its own blocking connection.
    const endpoint = typeof this.redisEndpoint === 'function' ? this.redisEndpoint() : this.redisEndpoint;
    const connection = connectRedis(endpoint, { maxRetriesPerRequest: 2 });
    connection.on('error', (err: Error) => this.logger.warn(`mirror: redis: ${err.message}`));
    keepConnected(connection, () => this.closing);
    this.redis = connection;
    const store = new MirrorStore(connection, this.config.namespace);
    this.store = store;
    this.controlInstance = new MirrorControl(this.config, store, (alias) => this.clientsFor(alias));
    const queueName = `${this.config.namespace}-mirror`;
    const queue = new Queue<UnitJobData>(queueName, { connection });
    // Without a listener BullMQ prints the shared connection's errors (reported above) raw.
    queue.on('error', () => undefined);
    this.queue = queue;
    if (options.manage ?? true) {
      for (const f of this.config.flows.filter((x) => x.enabled)) {
        const m = new FlowManager(
          f,
          this.clientsFor(f.source),
          this.clientsFor(f.target),
          store,
          queue,
          this.logger,
        );
        m.start();
        this.managers.push(m);
      }
    }
    if (options.work ?? true) {
      await store.heartbeatWorker([]);
      this.heartbeat = setInterval(
        () => void store.heartbeatWorker([...this.running]).catch(() => undefined),
        1000,
      );
      const workerConnection = connection.duplicate({ maxRetriesPerRequest: null });
      workerConnection.on('error', (err: Error) => this.logger.warn(`mirror worker: redis: ${err.message}`));
      keepConnected(workerConnection, () => this.closing);
      this.workerRedis = workerConnection;
      this.worker = new Worker<UnitJobData>(queueName, (job, token) => this.process(job, token), {
        connection: workerConnection,
        concurrency: this.config.workerConcurrency,
        lockDuration: this.config.lockDurationMs,
        // A dead worker's units are found at most lock.duration.ms plus this after its last renewal.
        stalledInterval: Math.max(500, Math.floor(this.config.lockDurationMs / 5)),
        maxStalledCount: 1_000_000,
        drainDelay: 1,
      });
      this.worker.on('error', (err) => this.logger.warn(`mirror worker: ${err.message}`));
    }
  }

  /** Yields a unit back to the queue after `delayMs`; another worker may take it. */
  private async yieldUnit(job: Job<UnitJobData>, token: string | undefined, delayMs: number): Promise<never> {
    await job.moveToDelayed(Date.now() + delayMs, token);
    throw new DelayedError();
  }

  private async process(job: Job<UnitJobData>, token: string | undefined): Promise<void> {
    const store = this.store as MirrorStore;
    const unit = job.data;
    const flow = this.config.flows.find((f) => f.name === unit.flow);
    if (flow === undefined || !flow.enabled) return;
    // Fair share: a worker holding more than its part of the units hands new ones on.
    const live = await store.liveWorkers(3000);
    const share = Math.ceil((await store.unitCount()) / live);
    if (this.active >= share && live > 1) return this.yieldUnit(job, token, 200 + Math.random() * 300);
    const id = unitJobId(unit);
    this.active++;
    this.running.add(id);
    // The unit keeps its job's lock itself: BullMQ's own renewal forgets a job that comes back
    // to this worker while its previous run is still being wound up (both are tracked by job
    // id), and a lock that lapses hands the unit to a second runner.
    let lockLost = false;
    const renewer = setInterval(() => {
      job.extendLock(token ?? '', this.config.lockDurationMs).then(
        (ok) => {
          if (ok !== 1) lockLost = true;
        },
        () => (lockLost = true),
      );
    }, this.config.lockDurationMs / 4);
    const started = Date.now();
    const runner = new UnitRunner(
      {
        flow,
        source: this.clientsFor(flow.source),
        target: this.clientsFor(flow.target),
        store,
        logger: this.logger,
        leaseMs: this.config.lockDurationMs,
        shouldStop: () => this.closing || lockLost || Date.now() - started > this.config.unitSliceMs,
      },
      unit,
    );
    let outcome: UnitOutcome | 'failed';
    try {
      await this.noteTakeover(unit);
      outcome = await runner.run();
    } catch (err) {
      const message = (err as Error).message;
      await runner.noteFailure(message).catch(() => undefined);
      await store.recordError(flow.name, message, unit.topic, unit.partition).catch(() => undefined);
      this.logger.warn(`flow ${flow.name} ${unit.topic}-${unit.partition}: ${message}`);
      outcome = 'failed';
    } finally {
      clearInterval(renewer);
      this.active--;
      this.running.delete(id);
    }
    if (lockLost) {
      this.logger.warn(
        `flow ${flow.name} ${unit.topic}-${unit.partition}: this worker lost the unit's lock; another one runs it now`,
      );
      // The job is another worker's now: leave it as it is.
      throw new DelayedError();
    }
    // A promoted topic's unit is done: its job completes and is removed.
    if (outcome === 'done') return;
    return this.yieldUnit(job, token, this.closing ? 0 : RERUN_DELAY_MS[outcome]);
  }

  /** Says when this worker takes over a unit whose last worker went silent, and for how long it was. */
  private async noteTakeover(unit: UnitJobData): Promise<void> {
    const store = this.store as MirrorStore;
    const last = await store.unitStatus(unit.flow, unit.topic, unit.partition);
    if (last === null || last.worker === store.workerId || last.state === 'promoted') return;
    const seen = await store.workerSeenAt(last.worker);
    const silentMs = Date.now() - (seen ?? last.updatedAt);
    // Workers heartbeat every second: longer silence means the last one died or hung.
    if (silentMs < 1500) return;
    this.logger.log(
      `flow ${unit.flow}: took over ${unit.topic}-${unit.partition} at offset ${last.position} from worker ${last.worker}, silent for ${(silentMs / 1000).toFixed(1)} s (its lock lapsed)`,
    );
  }

  /** Runs every flow's topic discovery now instead of at its next interval. */
  refreshTopics(): void {
    for (const m of this.managers) m.refreshNow();
  }

  /** Stops: units yield back to the queue at once (another process may take them), managers release their leases. */
  async stop(): Promise<void> {
    this.closing = true;
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    await Promise.race([Promise.all(this.managers.map((m) => m.stop())), sleep(this.config.lockDurationMs)]);
    // Units see `closing` and yield within a fetch's wait; a worker that cannot reach Redis is closed by force.
    const closed = this.worker?.close();
    if (closed !== undefined) {
      const late = await Promise.race([
        closed.then(() => false),
        sleep(this.config.lockDurationMs).then(() => true),
      ]);
      if (late) await this.worker?.close(true);
    }
    await this.store?.removeWorker().catch(() => undefined);
    await this.queue?.close();
    for (const c of this.clients.values()) await c.close();
    this.workerRedis?.disconnect();
    this.redis?.disconnect();
  }
}

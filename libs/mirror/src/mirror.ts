import { DelayedError, Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { ClusterClients } from './cluster-clients';
import type { FlowConfig, MirrorConfig } from './config';
import { FlowManager, type UnitJobData } from './flow-manager';
import { MirrorStore, type FlowStatus } from './mirror-store';
import { sleep } from './sleep';
import { UnitRunner } from './unit-runner';

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
  private queue: Queue<UnitJobData> | null = null;
  private worker: Worker<UnitJobData> | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private closing = false;
  private active = 0;

  constructor(
    readonly config: MirrorConfig,
    /** A function when the URL is known only at start (the demo's private redis-server). */
    private readonly redisUrl: string | (() => string),
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

  private flow(name: string): FlowConfig {
    const f = this.config.flows.find((x) => x.name === name);
    if (f === undefined) throw new Error(`unknown flow "${name}"`);
    return f;
  }

  get flows(): readonly FlowConfig[] {
    return this.config.flows;
  }

  async start(options: MirrorOptions = {}): Promise<void> {
    // Commands fail fast while Redis is away (loops record the error and go on); BullMQ's worker needs its own blocking connection.
    const url = typeof this.redisUrl === 'function' ? this.redisUrl() : this.redisUrl;
    const connection = new Redis(url, { maxRetriesPerRequest: 2 });
    connection.on('error', (err: Error) => this.logger.warn(`mirror: redis: ${err.message}`));
    this.redis = connection;
    const store = new MirrorStore(connection, this.config.namespace);
    this.store = store;
    const queueName = `${this.config.namespace}-mirror`;
    const queue = new Queue<UnitJobData>(queueName, { connection });
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
      await store.heartbeatWorker();
      this.heartbeat = setInterval(() => void store.heartbeatWorker().catch(() => undefined), 1000);
      const workerConnection = connection.duplicate({ maxRetriesPerRequest: null });
      workerConnection.on('error', (err: Error) => this.logger.warn(`mirror worker: redis: ${err.message}`));
      this.workerRedis = workerConnection;
      this.worker = new Worker<UnitJobData>(queueName, (job, token) => this.process(job, token), {
        connection: workerConnection,
        concurrency: this.config.workerConcurrency,
        lockDuration: this.config.lockDurationMs,
        stalledInterval: Math.max(500, Math.floor(this.config.lockDurationMs / 2)),
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
    this.active++;
    const started = Date.now();
    const runner = new UnitRunner(
      {
        flow,
        source: this.clientsFor(flow.source),
        target: this.clientsFor(flow.target),
        store,
        logger: this.logger,
        shouldStop: () => this.closing || Date.now() - started > this.config.unitSliceMs,
      },
      unit,
    );
    let outcome;
    try {
      outcome = await runner.run();
    } catch (err) {
      const message = `${unit.topic}-${unit.partition}: ${(err as Error).message}`;
      runner.noteError(message);
      await store
        .recordError(flow.name, (err as Error).message, unit.topic, unit.partition)
        .catch(() => undefined);
      this.logger.warn(`flow ${flow.name} ${message}`);
      return this.yieldUnit(job, token, 1000);
    } finally {
      this.active--;
    }
    if (this.closing) return this.yieldUnit(job, token, 0);
    const delay = { paused: 1000, busy: 200, handover: 500, yield: 0 }[outcome];
    return this.yieldUnit(job, token, delay);
  }

  // ---- operations ------------------------------------------------------------------------

  async status(): Promise<FlowStatus[]> {
    const store = this.requireStore();
    return Promise.all(
      this.config.flows.map((f) =>
        store.flowStatus(f.name, { bytesPerSecond: f.throttleBytesPerSecond, recordsPerSecond: 0 }),
      ),
    );
  }

  async pause(flow: string): Promise<void> {
    this.flow(flow);
    await this.requireStore().setFlowState(flow, 'paused');
  }

  async resume(flow: string): Promise<void> {
    this.flow(flow);
    await this.requireStore().setFlowState(flow, 'running');
  }

  /** Limits a flow across all its workers, in bytes and records per second (0: unlimited). */
  async throttle(flow: string, limit: { bytesPerSecond: number; recordsPerSecond: number }): Promise<void> {
    this.flow(flow);
    for (const [name, v] of Object.entries(limit)) {
      if (!Number.isSafeInteger(v) || v < 0)
        throw new Error(`${name} must be a whole number, 0 for unlimited`);
    }
    await this.requireStore().setThrottle(flow, limit);
  }

  /** Runs every flow's topic discovery now instead of at its next interval. */
  refreshTopics(): void {
    for (const m of this.managers) m.refreshNow();
  }

  private requireStore(): MirrorStore {
    if (this.store === null) throw new Error('the mirror is not started');
    return this.store;
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

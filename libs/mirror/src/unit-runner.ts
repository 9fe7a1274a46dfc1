import {
  abortedTransactionFilter,
  decodeRecordBatches,
  ErrorCode,
  KafkaProtocolError,
  type DecodedRecordBatch,
  type RecordHeader,
} from '@tributary/protocol';
import { sleep } from './sleep';
import { cutIntoWrites, firstTimestamp, maxTimestamps, type WriteLimits } from './batches';
import { PartitionReader, type ClusterClients, type RawFetch } from './cluster-clients';
import type { FlowConfig } from './config';
import { recordManualPromotion } from './flow-manager';
import {
  encodeOffsetSyncKey,
  encodeOffsetSyncValue,
  HEARTBEATS_TOPIC,
  offsetSyncsTopic,
} from './mm2-formats';
import type { FlowThrottle, MirrorStore, UnitError, UnitStatus } from './mirror-store';
import { targetTopic } from './policy';
import type { Producer } from '@tributary/client';
import { lastOrigin, originHeader, passedThrough } from './provenance';

export interface UnitRef {
  readonly flow: string;
  readonly topic: string;
  readonly partition: number;
}

export interface UnitContext {
  readonly flow: FlowConfig;
  readonly source: ClusterClients;
  readonly target: ClusterClients;
  readonly store: MirrorStore;
  readonly logger: { warn(m: string): void; error(m: string): void; log(m: string): void };
  /** True once the unit must stop: its slice is over, the worker is closing, or its job's lock was lost. */
  readonly shouldStop: () => boolean;
  /** Milliseconds a target partition's writer lease lasts (translate mode): the worker lock duration. */
  readonly leaseMs: number;
}

/**
 * yield: slice over; paused: flow paused; busy: another unit writes the target partition;
 * handover: this one let a waiting unit in; error: the partition cannot be copied until an
 * operator acts (a batch larger than the target allows); done: the topic was promoted.
 */
export type UnitOutcome = 'yield' | 'paused' | 'busy' | 'handover' | 'error' | 'done';

const FETCH_BYTES = 4 << 20;
const FETCH_WAIT_MS = 500;
const STATUS_EVERY_MS = 500;
const CONTROLS_EVERY_MS = 500;
/** What one translate-mode produce request may carry (the producer's max.request.size). */
const MAX_REQUEST_BYTES = 4 << 20;
/** Encoding overhead per record beyond key, value and headers (varints, attributes). */
const RECORD_OVERHEAD = 32;

/** One side of the copy: a cluster's clients and a topic on it. */
interface Side {
  readonly clients: ClusterClients;
  readonly alias: string;
  readonly topic: string;
}

interface Controls {
  readonly paused: boolean;
  readonly limit: FlowThrottle;
  /** The topic's state changed since the unit started (promoted, reversed, failed back). */
  readonly topicChanged: boolean;
}

const TOPIC_CONFIG = 2;

/**
 * Copies one source partition of one flow into the target, until told to stop.
 *
 * preserve mode (a Tributary target, mirror topic marked tributary.mirror.of): batches go
 * from the source's Fetch to the target's MirrorProduce as stored bytes (hot path: never
 * decoded), keeping their offsets. Where to resume is the target's log end, so a unit that
 * restarts or is taken over by another worker neither loses nor duplicates a record, and a
 * zombie's late write is skipped by the broker. The target's log start follows the
 * source's (retention, DeleteRecords), so what the source deleted is gone downstream too.
 * A reversed topic runs the same way the other way round: what was written to the promoted
 * target goes back into the source topic, now the mirror.
 *
 * translate mode (a foreign target, or several sources merged by the identity policy):
 * records read read_committed are re-produced with a provenance header by the unit's own
 * transactional producer, while one writer per target partition holds a Redis lease. Each
 * chunk commits with the unit's next source offset (the flow group's offset metadata on the
 * target), which is where it resumes. Offset syncs go to MM2's offset-syncs topic after
 * each commit.
 *
 * Either way writes are cut to fit the target's max.message.bytes and segment.bytes, paced
 * by the flow's throttle, and the unit reports true lag: records behind and the age of the
 * oldest record not yet copied, also while paused or throttled.
 */
export class UnitRunner {
  private position = -1;
  /** The log end the target had where this unit last wrote or looked (a skipped source gap leaves it below position). */
  private expectedEnd = -1;
  private sourceEnd = -1;
  private oldestPending = -1;
  private caughtUpAt = Date.now();
  private appliedLogStart = -1;
  /** translate: the target offset committed with the unit's last transaction (the flow group's offset). */
  private targetCommitted = 0;
  private lastStatus = 0;
  private unitError: UnitError | null = null;
  /** The error the unit's last run reported, so a partition stuck on one batch logs it once. */
  private previousError: UnitError | null = null;
  private mode: 'preserve' | 'translate' = 'preserve';
  private direction: 'forward' | 'reverse' = 'forward';
  private from!: Side;
  private to!: Side;
  private reader!: PartitionReader;
  private limits: WriteLimits = {
    maxBytes: MAX_REQUEST_BYTES,
    maxBatchBytes: MAX_REQUEST_BYTES,
    maxRecords: 0,
  };
  private cachedControls: Controls | null = null;
  private controlsAt = 0;
  private topicsVersion = -1;
  private readonly targetTopic: string;

  constructor(
    private readonly ctx: UnitContext,
    private readonly unit: UnitRef,
  ) {
    this.targetTopic = targetTopic(ctx.flow, unit.topic);
  }

  private get name(): string {
    return `flow ${this.ctx.flow.name} ${this.unit.topic}-${this.unit.partition}`;
  }

  async run(): Promise<UnitOutcome> {
    const { flow, store, source, target } = this.ctx;
    const { topic, partition } = this.unit;
    this.topicsVersion = await store.topicsVersion(flow.name);
    const previous = await store.unitStatus(flow.name, topic, partition);
    if (previous !== null) {
      this.caughtUpAt = previous.caughtUpAt;
      this.previousError = previous.error;
    }
    const state = await store.topicState(flow.name, topic);
    if (state?.state === 'promoted') {
      await this.reportState('promoted');
      return 'done';
    }
    this.direction = state?.state === 'reversed' ? 'reverse' : 'forward';
    const sourceSide = { clients: source, alias: flow.source, topic };
    const targetSide = { clients: target, alias: flow.target, topic: this.targetTopic };
    [this.from, this.to] = this.direction === 'forward' ? [sourceSide, targetSide] : [targetSide, sourceSide];
    const marker = `${this.from.alias}:${this.from.topic}`;
    const configs = await this.configsOf(this.to);
    if (configs.get('tributary.mirror.of') === marker) this.mode = 'preserve';
    else if (this.direction === 'reverse') {
      throw new KafkaProtocolError(
        ErrorCode.POLICY_VIOLATION,
        `${flow.source}/${topic} is no longer a mirror of ${marker} (tributary.mirror.of was changed): fail back or reverse again`,
      );
    } else if (wasMirrorOf(configs, flow.source)) {
      await recordManualPromotion(store, target, flow, topic, this.ctx.logger);
      await this.reportState('promoted');
      return 'done';
    } else this.mode = 'translate';
    this.readLimits(configs);
    this.reader = new PartitionReader(this.from.clients, this.from.topic, partition);
    try {
      return await (this.mode === 'preserve' ? this.runPreserve() : this.runTranslate());
    } finally {
      this.reader.close();
    }
  }

  private async configsOf(side: Side): Promise<Map<string, string>> {
    const entries = await side.clients.admin.describeConfigs({ type: TOPIC_CONFIG, name: side.topic }, [
      'tributary.mirror.of',
      'tributary.mirror.path',
      'max.message.bytes',
      'segment.bytes',
    ]);
    return new Map(entries.filter((e) => e.value !== null).map((e) => [e.name, e.value as string]));
  }

  /** What one write may hold: the target's segment.bytes and max.message.bytes (Kafka refuses more). */
  private readLimits(configs: Map<string, string>): void {
    const segment = Number(configs.get('segment.bytes') ?? MAX_REQUEST_BYTES);
    const batch = Number(configs.get('max.message.bytes') ?? MAX_REQUEST_BYTES);
    this.limits = {
      maxBytes: Math.min(MAX_REQUEST_BYTES, segment),
      maxBatchBytes: this.mode === 'translate' ? Math.min(batch, segment) : batch,
      maxRecords: 0,
    };
  }

  /**
   * The flow's controls (pause, throttle, topic state), read from Redis at most every
   * CONTROLS_EVERY_MS: hot path, a chunk must not wait on Redis round trips.
   */
  private async controls(): Promise<Controls> {
    const now = Date.now();
    if (this.cachedControls === null || now - this.controlsAt > CONTROLS_EVERY_MS) {
      const { flow, store } = this.ctx;
      const [state, limit, version] = await Promise.all([
        store.flowState(flow.name),
        store.throttle(flow.name, { bytesPerSecond: flow.throttleBytesPerSecond, recordsPerSecond: 0 }),
        store.topicsVersion(flow.name),
      ]);
      let topicChanged = false;
      if (version !== this.topicsVersion) {
        this.topicsVersion = version;
        const s = await store.topicState(flow.name, this.unit.topic);
        const direction = s?.state === 'reversed' ? 'reverse' : 'forward';
        topicChanged = s?.state === 'promoted' || direction !== this.direction;
      }
      this.cachedControls = { paused: state === 'paused', limit, topicChanged };
      this.controlsAt = now;
      // A records throttle paces per write: a write holds at most a quarter second's records.
      this.limits = {
        ...this.limits,
        maxRecords: limit.recordsPerSecond > 0 ? Math.max(1, Math.floor(limit.recordsPerSecond / 4)) : 0,
      };
    }
    return this.cachedControls;
  }

  /** Waits out the throttle for one write; false when the flow was paused or the topic changed meanwhile. */
  private async throttled(bytes: number, records: number): Promise<boolean> {
    const { limit } = await this.controls();
    let wait = await this.ctx.store.takeThrottle(this.ctx.flow.name, bytes, records, limit);
    while (wait > 0) {
      await this.reportStatus(false);
      const step = Math.min(wait, CONTROLS_EVERY_MS);
      await sleep(step);
      wait -= step;
      const c = await this.controls();
      if (c.paused || c.topicChanged || this.ctx.shouldStop()) return false;
    }
    return true;
  }

  private fetchBytes(limit: FlowThrottle): number {
    // A bytes throttle fetches about a quarter second's worth, so writes pace smoothly.
    return limit.bytesPerSecond > 0
      ? Math.max(1, Math.min(FETCH_BYTES, Math.floor(limit.bytesPerSecond / 4)))
      : FETCH_BYTES;
  }

  /**
   * A fetch's answer, or null when the source deleted what was not yet copied (retention):
   * the position moves past the gap and the caller fetches again. Other errors are thrown.
   */
  private async fromSource(fetching: Promise<RawFetch>): Promise<RawFetch | null> {
    const fetched = await fetching;
    const { partition } = this.unit;
    if (fetched.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
      const [start] = await this.from.clients.admin.listOffsets(
        [{ topic: this.from.topic, partition }],
        'earliest',
      );
      if (start.offset > this.position) {
        this.ctx.logger.warn(
          `${this.name}: ${this.from.alias}/${this.from.topic}-${partition} starts at ${start.offset}, past ${this.position}: skipping the gap`,
        );
        this.position = start.offset;
        return null;
      }
    }
    if (fetched.errorCode !== ErrorCode.NONE)
      throw new KafkaProtocolError(fetched.errorCode, `fetch ${this.from.topic}-${partition}`);
    this.sourceEnd = fetched.highWatermark;
    this.oldestPending = fetched.records.length > 0 ? firstTimestamp(fetched.records) : -1;
    return fetched;
  }

  private caughtUp(): boolean {
    return this.position >= this.sourceEnd;
  }

  // ---- preserve --------------------------------------------------------------------------

  private async runPreserve(): Promise<UnitOutcome> {
    const { partition } = this.unit;
    const to = { topic: this.to.topic, partition };
    const [end] = await this.to.clients.admin.listOffsets([to], 'latest');
    const [start] = await this.to.clients.admin.listOffsets([to], 'earliest');
    this.position = end.offset;
    this.expectedEnd = end.offset;
    this.appliedLogStart = start.offset;
    let pending: Promise<RawFetch> | null = null;
    while (!this.ctx.shouldStop()) {
      const c = await this.controls();
      if (c.topicChanged) return this.topicChangedOutcome();
      if (c.paused) return this.pausedOutcome();
      const fetched = await this.fromSource(
        pending ?? this.reader.fetch(this.position, this.fetchBytes(c.limit), FETCH_WAIT_MS),
      );
      pending = null;
      if (fetched === null) continue;
      await this.followLogStart(fetched.logStartOffset);
      if (fetched.records.length === 0) {
        if (this.caughtUp()) this.caughtUpAt = Date.now();
        await this.reportStatus(false);
        continue;
      }
      const { fits, tooLarge } = cutIntoWrites(fetched.records, this.limits);
      const unthrottled = c.limit.bytesPerSecond <= 0 && c.limit.recordsPerSecond <= 0;
      let allWritten = true;
      if (unthrottled && tooLarge === null) {
        // Pipelined: the next fetch runs while this one is written.
        pending = this.reader.fetch(fetched.nextOffset, FETCH_BYTES, FETCH_WAIT_MS);
        pending.catch(() => undefined);
      }
      for (const chunk of fits) {
        this.oldestPending = chunk.baseTimestamp;
        if (!unthrottled && !(await this.throttled(chunk.records.length, chunk.recordCount))) {
          pending = null;
          allWritten = false;
          break;
        }
        let logEnd: number;
        try {
          logEnd = await this.to.clients.mirrorProduce(
            this.ctx.flow.name,
            this.to.topic,
            partition,
            this.expectedEnd,
            chunk.records,
          );
        } catch (err) {
          if (!(await this.limitsChanged(err))) throw err;
          pending = null;
          allWritten = false;
          break;
        }
        const copied = logEnd > this.position ? chunk.recordCount : 0;
        if (logEnd !== chunk.nextOffset) pending = null;
        this.position = logEnd;
        this.expectedEnd = logEnd;
        await this.ctx.store.countCopied(this.ctx.flow.name, copied > 0 ? chunk.records.length : 0, copied);
        if (this.unit.topic === HEARTBEATS_TOPIC) {
          const now = Date.now();
          await this.ctx.store.recordLatency(
            this.ctx.flow.name,
            maxTimestamps(chunk.records).map((t) => now - t),
          );
        }
        if (logEnd !== chunk.nextOffset) {
          allWritten = false;
          break;
        }
      }
      if (tooLarge !== null && allWritten) return this.writeError(tooLarge);
      this.oldestPending = -1;
      if (this.caughtUp()) this.caughtUpAt = Date.now();
      await this.reportStatus(false);
    }
    await this.reportStatus(true);
    return 'yield';
  }

  /**
   * Whether a write was refused for its size (the target's max.message.bytes or segment.bytes
   * went down since the unit read them): the limits are read again and the caller cuts anew.
   */
  private async limitsChanged(err: unknown): Promise<boolean> {
    if (
      !(err instanceof KafkaProtocolError) ||
      (err.code !== ErrorCode.MESSAGE_TOO_LARGE && err.code !== ErrorCode.RECORD_LIST_TOO_LARGE)
    )
      return false;
    this.readLimits(await this.configsOf(this.to));
    return true;
  }

  /** Moves the mirror's log start up to the source's, once the records below it are copied or gone. */
  private async followLogStart(sourceLogStart: number): Promise<void> {
    const upTo = Math.min(sourceLogStart, this.position);
    if (upTo <= this.appliedLogStart) return;
    const [moved] = await this.to.clients.admin.deleteRecords([
      { topic: this.to.topic, partition: this.unit.partition, offset: upTo },
    ]);
    this.appliedLogStart = moved.offset;
  }

  /** A batch no write can carry: the partition stops here, in an error state every view shows. */
  private async writeError(tooLarge: {
    offset: number;
    message: string;
    limit: { name: string; value: number };
  }): Promise<UnitOutcome> {
    const { flow, store, logger } = this.ctx;
    const message = `${this.to.alias}/${this.to.topic}-${this.unit.partition}: ${tooLarge.message}; raise it on the target topic to go on`;
    if (this.previousError?.message !== message) {
      logger.warn(`${this.name}: ${message}`);
      await store.recordError(flow.name, message, this.unit.topic, this.unit.partition);
    }
    this.unitError = { message, offset: tooLarge.offset, limit: tooLarge.limit };
    await this.reportStatus(true);
    return 'error';
  }

  // ---- translate -------------------------------------------------------------------------

  private async runTranslate(): Promise<UnitOutcome> {
    const { store, flow } = this.ctx;
    const lockName = `target:${flow.target}:${this.targetTopic}:${this.unit.partition}`;
    const ttl = this.ctx.leaseMs;
    const token = await store.acquire(lockName, ttl);
    if (token === null) {
      await store.wantLease(lockName, 2000);
      return 'busy';
    }
    let lockLost = false;
    const renewer = setInterval(() => {
      store.renew(lockName, token, ttl).then(
        (ok) => {
          if (!ok) lockLost = true;
        },
        () => (lockLost = true),
      );
    }, ttl / 3);
    const producer = this.ctx.target.transactionalProducer(transactionalIdOf(flow.name, this.unit));
    try {
      // Fences an earlier owner of this unit (a zombie worker) and aborts its open transaction.
      await producer.initTransactions();
      this.position = await this.recoverPosition();
      return await this.translateLoop(
        producer,
        () => lockLost,
        () => store.leaseWanted(lockName),
      );
    } finally {
      clearInterval(renewer);
      await producer.close().catch(() => undefined);
      await store.release(lockName, token).catch(() => undefined);
    }
  }

  /**
   * Where this unit resumes: the source offset its last committed transaction stored in the
   * flow's group on the target, committed together with the records. Without one (a unit
   * that never committed, or copied before transactions): after the newest committed record
   * in the target partition whose provenance is this source partition, the last
   * acknowledged progress bounding the scan.
   */
  private async recoverPosition(): Promise<number> {
    const { target, store, flow } = this.ctx;
    const { topic, partition } = this.unit;
    const progress = await store.progress(flow.name, topic, partition);
    const [committed] = await target.admin.fetchOffsets(progressGroupOf(flow.name), [
      { topic: this.targetTopic, partition },
    ]);
    const stored = committed === undefined ? null : decodeUnitProgress(committed.metadata ?? '', this.unit);
    const [start] = await target.admin.listOffsets([{ topic: this.targetTopic, partition }], 'earliest');
    const [end] = await target.admin.listOffsets([{ topic: this.targetTopic, partition }], 'latest');
    this.targetCommitted = stored !== null ? committed.offset : end.offset;
    if (stored !== null) {
      if (progress === null || progress.sourceOffset !== stored) {
        this.ctx.logger.log(
          `${this.name}: resuming at ${stored}, the source offset committed with the target's records (Redis had ${progress?.sourceOffset ?? 'none'})`,
        );
      }
      return stored;
    }
    // The acknowledged progress is a lower bound; a write acknowledged after it shows in the target's provenance.
    let position = progress?.sourceOffset ?? -1;
    let at = Math.max(start.offset, progress?.targetOffset ?? start.offset);
    while (at < end.offset) {
      // read_committed: an aborted attempt's records were not copied.
      const f = await target.fetchRaw(this.targetTopic, partition, at, FETCH_BYTES, 0, 1);
      if (f.errorCode !== ErrorCode.NONE)
        throw new KafkaProtocolError(f.errorCode, `scanning ${this.targetTopic}-${partition}`);
      if (f.records.length === 0) break;
      const aborted = abortedTransactionFilter(f.abortedTransactions);
      for (const batch of decodeRecordBatches(f.records)) {
        if (aborted(batch)) continue;
        for (const r of batch.records) {
          const o = lastOrigin(r.headers);
          if (
            o !== null &&
            o.cluster === flow.source &&
            o.topic === topic &&
            o.partition === partition &&
            o.offset >= position
          ) {
            position = o.offset + 1;
          }
        }
      }
      at = f.nextOffset;
    }
    if (position >= 0) return position;
    // Nothing of ours in the target yet: start from the source's beginning, as MM2 does.
    const [earliest] = await this.ctx.source.admin.listOffsets([{ topic, partition }], 'earliest');
    return earliest.offset;
  }

  /**
   * Copies until told to stop, one transaction per fetched chunk: its records and the unit's
   * next source offset (in the flow's group on the target) commit together, so a worker killed
   * mid-chunk leaves nothing behind that its successor copies again. Offset syncs go out after
   * the commit, so they never point past what the target shows. Several sources merged into
   * one target partition take turns: a unit that wrote a chunk hands the partition over when
   * another one waits for it.
   */
  private async translateLoop(
    producer: Producer,
    lockLost: () => boolean,
    othersWaiting: () => Promise<boolean>,
  ): Promise<UnitOutcome> {
    const { source, flow, store } = this.ctx;
    const { topic, partition } = this.unit;
    const syncs = source.producer();
    const group = {
      groupId: progressGroupOf(flow.name),
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
    };
    let lastSync: { upstream: number; downstream: number } | null = null;
    /** Commit markers in the target since the last sync: each takes an offset. */
    let markersSinceSync = 0;
    while (!this.ctx.shouldStop()) {
      if (lockLost()) return 'busy';
      const c = await this.controls();
      if (c.topicChanged) return this.topicChangedOutcome();
      if (c.paused) return this.pausedOutcome();
      // read_committed: an aborted transaction's records never become real ones downstream.
      const fetched = await this.fromSource(
        this.reader.fetch(this.position, this.fetchBytes(c.limit), FETCH_WAIT_MS, 1),
      );
      if (fetched === null) continue;
      if (fetched.records.length === 0) {
        if (this.caughtUp()) this.caughtUpAt = Date.now();
        await this.reportStatus(false);
        if (await othersWaiting()) return 'handover';
        continue;
      }
      const writes = this.translatedWrites(
        fetched.records,
        abortedTransactionFilter(fetched.abortedTransactions),
      );
      // Up to where this chunk's transaction takes the unit: past skipped records too, not past a batch too large.
      const nextOffset = writes.tooLarge !== null ? writes.tooLarge.offset : fetched.nextOffset;
      if (writes.tooLarge !== null && writes.fits.length === 0 && nextOffset === this.position)
        return this.writeError(writes.tooLarge);
      producer.beginTransaction();
      const written: { upstream: number; downstream: number; count: number; bytes: number; next: number }[] =
        [];
      let lastTargetOffset = -1;
      let targetOffset = this.targetCommitted;
      let refused = false;
      try {
        for (const w of writes.fits) {
          this.oldestPending = w.messages[0].timestamp;
          if (!(await this.throttled(w.bytes, w.messages.length))) {
            await producer.abortTransaction();
            return this.pausedOrChanged();
          }
          const metas = await producer.send({ topic: this.targetTopic, messages: w.messages });
          lastTargetOffset = metas[metas.length - 1].offset;
          written.push({
            upstream: w.upstream[0],
            downstream: metas[0].offset,
            count: w.messages.length,
            bytes: w.bytes,
            next: w.nextOffset,
          });
          if (topic === HEARTBEATS_TOPIC) {
            const now = Date.now();
            await store.recordLatency(
              flow.name,
              w.messages.map((m) => now - m.timestamp),
            );
          }
        }
        targetOffset = lastTargetOffset >= 0 ? lastTargetOffset + 1 : this.targetCommitted;
        await producer.sendOffsetsToTransaction(
          [
            {
              topic: this.targetTopic,
              partition,
              offset: targetOffset,
              metadata: encodeUnitProgress(this.unit, nextOffset),
            },
          ],
          group,
        );
        await producer.commitTransaction();
      } catch (err) {
        await producer.abortTransaction().catch(() => undefined);
        // The target's limits shrank under it: cut again from where it stopped.
        if (!(await this.limitsChanged(err))) throw err;
        refused = true;
      }
      if (refused) continue;
      for (const w of written) {
        // MM2's rule: a sync on the first record, at any upstream gap (markers aside), and when downstream moved offset.lag.max past the last sync.
        const gap =
          lastSync !== null &&
          w.upstream - lastSync.upstream !== w.downstream - lastSync.downstream - markersSinceSync;
        if (lastSync === null || gap || w.downstream - lastSync.downstream >= flow.offsetLagMax) {
          await syncs.send({
            topic: offsetSyncsTopic(flow.target),
            messages: [
              {
                key: encodeOffsetSyncKey({ topic, partition }),
                value: encodeOffsetSyncValue({ upstreamOffset: w.upstream, offset: w.downstream }),
                partition: 0,
              },
            ],
          });
          lastSync = w;
          markersSinceSync = 0;
        }
        await store.countCopied(flow.name, w.bytes, w.count);
      }
      markersSinceSync++;
      this.targetCommitted = targetOffset;
      await store.setProgress(flow.name, topic, partition, { sourceOffset: nextOffset, targetOffset });
      this.position = nextOffset;
      if (writes.tooLarge !== null) return this.writeError(writes.tooLarge);
      this.oldestPending = -1;
      if (this.caughtUp()) this.caughtUpAt = Date.now();
      await this.reportStatus(false);
      if (await othersWaiting()) return 'handover';
    }
    await this.reportStatus(true);
    return 'yield';
  }

  /** A fetched chunk's records as the target's producer gets them, cut to fit its limits. */
  private translatedWrites(
    records: Buffer,
    aborted: (batch: DecodedRecordBatch) => boolean,
  ): {
    fits: {
      messages: {
        key: Buffer | null;
        value: Buffer | null;
        headers: RecordHeader[];
        timestamp: number;
        partition: number;
      }[];
      upstream: number[];
      bytes: number;
      nextOffset: number;
    }[];
    tooLarge: { offset: number; message: string; limit: { name: string; value: number } } | null;
  } {
    const { flow } = this.ctx;
    const { topic, partition } = this.unit;
    // The producer adds a batch header and varints: keep a margin below the target's limit.
    const limit = this.limits.maxBatchBytes - 128;
    const maxRecords = this.limits.maxRecords;
    const fits: ReturnType<UnitRunner['translatedWrites']>['fits'] = [];
    let current: (typeof fits)[number] | null = null;
    for (const batch of decodeRecordBatches(records)) {
      if (aborted(batch)) continue;
      for (const r of batch.records) {
        if (r.offset < this.position || passedThrough(r.headers).includes(flow.target)) continue;
        const headers = [
          ...r.headers,
          originHeader({ cluster: flow.source, topic, partition, offset: r.offset }),
        ];
        const size =
          RECORD_OVERHEAD +
          (r.key?.length ?? 0) +
          (r.value?.length ?? 0) +
          headers.reduce((n, h) => n + h.key.length + (h.value?.length ?? 0) + 8, 0);
        if (size > limit) {
          return {
            fits,
            tooLarge: {
              offset: r.offset,
              message: `the record at offset ${r.offset} is about ${size} bytes, more than the target's limit ${limit}`,
              limit: {
                name:
                  this.limits.maxBatchBytes === this.limits.maxBytes ? 'segment.bytes' : 'max.message.bytes',
                value: this.limits.maxBatchBytes,
              },
            },
          };
        }
        if (
          current === null ||
          current.bytes + size > limit ||
          (maxRecords > 0 && current.messages.length >= maxRecords)
        ) {
          current = { messages: [], upstream: [], bytes: 0, nextOffset: r.offset + 1 };
          fits.push(current);
        }
        current.messages.push({ key: r.key, value: r.value, headers, timestamp: r.timestamp, partition });
        current.upstream.push(r.offset);
        current.bytes += size;
        current.nextOffset = r.offset + 1;
      }
    }
    return { fits, tooLarge: null };
  }

  // ---- status ----------------------------------------------------------------------------

  private async pausedOrChanged(): Promise<UnitOutcome> {
    const c = await this.controls();
    return c.topicChanged ? this.topicChangedOutcome() : this.pausedOutcome();
  }

  /** Promoted, reversed or failed back: this run ends and the next one starts the new way (or not at all). */
  private async topicChangedOutcome(): Promise<UnitOutcome> {
    const s = await this.ctx.store.topicState(this.ctx.flow.name, this.unit.topic);
    if (s?.state === 'promoted') {
      await this.reportState('promoted');
      return 'done';
    }
    await this.reportStatus(true);
    return 'yield';
  }

  /**
   * A paused unit still shows how far behind it falls: the source's end, and the age of the
   * oldest record not yet copied (read from the batch at its position).
   */
  private async pausedOutcome(): Promise<UnitOutcome> {
    const { partition } = this.unit;
    const [end] = await this.from.clients.admin.listOffsets(
      [{ topic: this.from.topic, partition }],
      'latest',
    );
    this.sourceEnd = end.offset;
    if (this.sourceEnd > this.position) {
      const f = await this.from.clients.fetchRaw(this.from.topic, partition, this.position, 1, 0);
      if (f.errorCode === ErrorCode.NONE && f.records.length > 0)
        this.oldestPending = firstTimestamp(f.records);
    } else {
      this.oldestPending = -1;
      this.caughtUpAt = Date.now();
    }
    await this.reportState('paused');
    return 'paused';
  }

  private async reportStatus(force: boolean): Promise<void> {
    const now = Date.now();
    if (!force && now - this.lastStatus < STATUS_EVERY_MS) return;
    await this.reportState(this.unitError !== null ? 'error' : 'copying');
  }

  private async reportState(state: UnitStatus['state']): Promise<void> {
    this.lastStatus = Date.now();
    await this.ctx.store.setUnitStatus({
      flow: this.ctx.flow.name,
      topic: this.unit.topic,
      partition: this.unit.partition,
      targetTopic: this.targetTopic,
      mode: this.mode,
      direction: this.direction,
      state,
      position: this.position,
      sourceEnd: this.sourceEnd,
      oldestPendingTimestamp: this.caughtUp() ? -1 : this.oldestPending,
      caughtUpAt: this.caughtUpAt,
      worker: this.ctx.store.workerId,
      updatedAt: this.lastStatus,
      error: state === 'error' ? this.unitError : null,
    });
  }

  /** A run that failed: its status says so until the next run clears it. */
  async noteFailure(message: string): Promise<void> {
    this.unitError = { message, offset: this.position, limit: null };
    await this.reportStatus(true);
  }
}

/** Whether a topic's provenance says it was created as a mirror of `alias`'s topic (tributary.mirror.path ends there). */
function wasMirrorOf(configs: Map<string, string>, alias: string): boolean {
  const path = (configs.get('tributary.mirror.path') ?? '').split(',').filter((s) => s.length > 0);
  return path.length > 0 && path[path.length - 1] === alias;
}

/**
 * The transactional.id of a translate-mode unit: stable across restarts and worker takeovers,
 * so a unit's new owner fences the old one (':' never appears in a topic name).
 */
export function transactionalIdOf(flow: string, unit: Pick<UnitRef, 'topic' | 'partition'>): string {
  return `tributary-mirror:${flow}:${unit.topic}:${unit.partition}`;
}

/** The group on the target whose offsets carry each translate-mode unit's committed source position. */
export function progressGroupOf(flow: string): string {
  return `tributary-mirror:${flow}`;
}

/** A committed offset's metadata: the source partition and the next source offset to copy. */
function encodeUnitProgress(unit: Pick<UnitRef, 'topic' | 'partition'>, sourceOffset: number): string {
  return JSON.stringify({ topic: unit.topic, partition: unit.partition, sourceOffset });
}

/** The next source offset committed for this unit, or null when the metadata is not ours. */
function decodeUnitProgress(metadata: string, unit: Pick<UnitRef, 'topic' | 'partition'>): number | null {
  try {
    const p = JSON.parse(metadata) as { topic?: unknown; partition?: unknown; sourceOffset?: unknown };
    return p.topic === unit.topic && p.partition === unit.partition && typeof p.sourceOffset === 'number'
      ? p.sourceOffset
      : null;
  } catch {
    return null;
  }
}

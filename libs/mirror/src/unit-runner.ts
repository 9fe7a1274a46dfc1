import {
  BATCH,
  decodeRecordBatches,
  ErrorCode,
  KafkaProtocolError,
  type RecordHeader,
} from '@tributary/protocol';
import { sleep } from './sleep';
import { PartitionReader, type ClusterClients, type RawFetch } from './cluster-clients';
import type { FlowConfig } from './config';
import {
  encodeOffsetSyncKey,
  encodeOffsetSyncValue,
  HEARTBEATS_TOPIC,
  offsetSyncsTopic,
} from './mm2-formats';
import type { FlowThrottle, MirrorStore } from './mirror-store';
import { targetTopic } from './policy';
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
  /** True once the unit must stop: its slice is over, the worker is closing, or its lock was lost. */
  readonly shouldStop: () => boolean;
}

/** yield: slice over; paused: flow paused; busy: another unit writes the target partition; handover: this one let a waiting unit in. */
export type UnitOutcome = 'yield' | 'paused' | 'busy' | 'handover';

const FETCH_BYTES = 4 << 20;
const FETCH_WAIT_MS = 500;
const STATUS_EVERY_MS = 500;
const LOCK_TTL_MS = 10_000;
const CONTROLS_EVERY_MS = 500;

/**
 * Copies one source partition of one flow into the target, until told to stop.
 *
 * preserve mode (a Tributary target, mirror topic marked tributary.mirror.of): batches go
 * from the source's Fetch to the target's MirrorProduce as stored bytes (hot path: never
 * decoded), keeping their offsets. Where to resume is the target's log end, so a unit that
 * restarts or is taken over by another worker neither loses nor duplicates a record, and a
 * zombie's late write is skipped by the broker.
 *
 * translate mode (a foreign target, or several sources merged by the identity policy):
 * records are re-produced by an idempotent producer with a provenance header, while one
 * writer per target partition holds a Redis lease. Where to resume is read back from the
 * target: the newest record whose provenance is this source partition, found by scanning
 * from the last acknowledged progress. Offset syncs go to MM2's offset-syncs topic.
 */
export class UnitRunner {
  private position = -1;
  private sourceEnd = -1;
  private records = 0;
  private bytes = 0;
  private lastStatus = 0;
  private lastError: string | null = null;
  private newestPendingTimestamp = -1;
  private readonly targetTopic: string;
  private mode: 'preserve' | 'translate' = 'preserve';
  private reader!: PartitionReader;
  private cachedControls: { paused: boolean; limit: FlowThrottle } | null = null;
  private controlsAt = 0;
  private unaccounted = { bytes: 0, records: 0 };
  private accountedAt = 0;

  constructor(
    private readonly ctx: UnitContext,
    private readonly unit: UnitRef,
  ) {
    this.targetTopic = targetTopic(ctx.flow, unit.topic);
  }

  async run(): Promise<UnitOutcome> {
    this.reader = new PartitionReader(this.ctx.source, this.unit.topic, this.unit.partition);
    try {
      const preserve = await this.preservesOffsets();
      this.mode = preserve ? 'preserve' : 'translate';
      return await (preserve ? this.runPreserve() : this.runTranslate());
    } finally {
      this.reader.close();
      if (this.cachedControls !== null)
        await this.flushAccounting(this.cachedControls.limit).catch(() => undefined);
    }
  }

  /** A mirror topic marked as this source topic's mirror takes MirrorProduce. */
  private async preservesOffsets(): Promise<boolean> {
    const [mirrorOf] = await this.ctx.target.admin.describeConfigs({ type: 2, name: this.targetTopic }, [
      'tributary.mirror.of',
    ]);
    return mirrorOf?.value === `${this.ctx.flow.source}:${this.unit.topic}`;
  }

  /**
   * The flow's controls (pause, throttle), read from Redis at most every CONTROLS_EVERY_MS:
   * hot path, a chunk must not wait on Redis round trips.
   */
  private async controls(): Promise<{ paused: boolean; limit: FlowThrottle }> {
    const now = Date.now();
    if (this.cachedControls === null || now - this.controlsAt > CONTROLS_EVERY_MS) {
      const { flow, store } = this.ctx;
      const [state, limit] = await Promise.all([
        store.flowState(flow.name),
        store.throttle(flow.name, { bytesPerSecond: flow.throttleBytesPerSecond, recordsPerSecond: 0 }),
      ]);
      this.cachedControls = { paused: state === 'paused', limit };
      this.controlsAt = now;
    }
    return this.cachedControls;
  }

  private async paused(): Promise<boolean> {
    return (await this.controls()).paused;
  }

  /**
   * Counts a chunk against the flow's throughput and throttle. Without a throttle the counts
   * go to Redis at most every CONTROLS_EVERY_MS; with one, every chunk is counted at once
   * and waits while the flow is over its limit.
   */
  private async account(bytes: number, records: number): Promise<void> {
    const { limit } = await this.controls();
    this.unaccounted.bytes += bytes;
    this.unaccounted.records += records;
    const throttled = limit.bytesPerSecond > 0 || limit.recordsPerSecond > 0;
    if (!throttled && Date.now() - this.accountedAt < CONTROLS_EVERY_MS) return;
    await this.flushAccounting(limit);
  }

  private async flushAccounting(limit: FlowThrottle): Promise<void> {
    const { bytes, records } = this.unaccounted;
    this.unaccounted = { bytes: 0, records: 0 };
    this.accountedAt = Date.now();
    if (bytes === 0 && records === 0) return;
    const wait = await this.ctx.store.account(this.ctx.flow.name, bytes, records, limit);
    if (wait > 0) await sleep(wait);
  }

  private fetchNext(): Promise<RawFetch> {
    return this.reader.fetch(this.position, FETCH_BYTES, FETCH_WAIT_MS);
  }

  /**
   * A fetch's answer, or null when the source deleted what was not yet copied (retention):
   * the position moves past the gap and the caller fetches again. Other errors are thrown.
   */
  private async fromSource(fetching: Promise<RawFetch>): Promise<RawFetch | null> {
    const fetched = await fetching;
    const { topic, partition } = this.unit;
    if (fetched.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
      const [start] = await this.ctx.source.admin.listOffsets([{ topic, partition }], 'earliest');
      if (start.offset > this.position) {
        this.ctx.logger.warn(
          `${this.ctx.flow.name} ${topic}-${partition}: source starts at ${start.offset}, past ${this.position}: skipping the gap`,
        );
        this.position = start.offset;
        return null;
      }
    }
    if (fetched.errorCode !== ErrorCode.NONE)
      throw new KafkaProtocolError(fetched.errorCode, `fetch ${topic}-${partition}`);
    this.sourceEnd = fetched.highWatermark;
    return fetched;
  }

  // ---- preserve --------------------------------------------------------------------------

  private async runPreserve(): Promise<UnitOutcome> {
    const { target, flow } = this.ctx;
    const { topic, partition } = this.unit;
    const [end] = await target.admin.listOffsets([{ topic: this.targetTopic, partition }], 'latest');
    this.position = end.offset;
    let pending: Promise<RawFetch> | null = null;
    while (!this.ctx.shouldStop()) {
      if (await this.paused()) return this.pausedOutcome();
      const fetched = await this.fromSource(pending ?? this.fetchNext());
      pending = null;
      if (fetched === null) continue;
      if (fetched.records.length === 0) {
        await this.reportStatus('preserve', false);
        continue;
      }
      await this.account(fetched.records.length, recordCount(fetched.records));
      // Pipelined: the next fetch runs while this one is written.
      pending = this.reader.fetch(fetched.nextOffset, FETCH_BYTES, FETCH_WAIT_MS);
      pending.catch(() => undefined);
      this.newestPendingTimestamp = lastMaxTimestamp(fetched.records);
      const logEnd = await target.mirrorProduce(
        flow.name,
        this.targetTopic,
        partition,
        this.position,
        fetched.records,
      );
      if (logEnd !== fetched.nextOffset) pending = null;
      this.position = logEnd;
      this.countCopied(fetched.records);
      if (topic === HEARTBEATS_TOPIC) await this.recordHeartbeatLatency(fetched.records);
      await this.reportStatus('preserve', false);
    }
    await this.reportStatus('preserve', true);
    return 'yield';
  }

  // ---- translate -------------------------------------------------------------------------

  private async runTranslate(): Promise<UnitOutcome> {
    const { store, flow } = this.ctx;
    const lockName = `target:${flow.target}:${this.targetTopic}:${this.unit.partition}`;
    const token = await store.acquire(lockName, LOCK_TTL_MS);
    if (token === null) {
      await store.wantLease(lockName, 2000);
      return 'busy';
    }
    let lockLost = false;
    const renewer = setInterval(() => {
      store.renew(lockName, token, LOCK_TTL_MS).then(
        (ok) => {
          if (!ok) lockLost = true;
        },
        () => (lockLost = true),
      );
    }, LOCK_TTL_MS / 3);
    try {
      this.position = await this.recoverPosition();
      return await this.translateLoop(
        () => lockLost,
        () => store.leaseWanted(lockName),
      );
    } finally {
      clearInterval(renewer);
      await store.release(lockName, token).catch(() => undefined);
    }
  }

  /**
   * Where this unit resumes: after the newest record in the target partition whose
   * provenance is this source partition. The last acknowledged progress bounds the scan.
   */
  private async recoverPosition(): Promise<number> {
    const { target, store, flow } = this.ctx;
    const { topic, partition } = this.unit;
    const progress = await store.progress(flow.name, topic, partition);
    const [start] = await target.admin.listOffsets([{ topic: this.targetTopic, partition }], 'earliest');
    const [end] = await target.admin.listOffsets([{ topic: this.targetTopic, partition }], 'latest');
    // The acknowledged progress is a lower bound; a write acknowledged after it shows in the target's provenance.
    let position = progress?.sourceOffset ?? -1;
    let at = Math.max(start.offset, progress?.targetOffset ?? start.offset);
    while (at < end.offset) {
      const f = await target.fetchRaw(this.targetTopic, partition, at, FETCH_BYTES, 0);
      if (f.errorCode !== ErrorCode.NONE)
        throw new KafkaProtocolError(f.errorCode, `scanning ${this.targetTopic}-${partition}`);
      if (f.records.length === 0) break;
      for (const batch of decodeRecordBatches(f.records)) {
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
   * Copies until told to stop. Several sources merged into one target partition take turns:
   * a unit that wrote a chunk hands the partition over when another one waits for it.
   */
  private async translateLoop(
    lockLost: () => boolean,
    othersWaiting: () => Promise<boolean>,
  ): Promise<UnitOutcome> {
    const { source, target, flow, store } = this.ctx;
    const { topic, partition } = this.unit;
    const producer = target.producer();
    const syncs = source.producer();
    let lastSync: { upstream: number; downstream: number } | null = null;
    while (!this.ctx.shouldStop()) {
      if (lockLost()) return 'busy';
      if (await this.paused()) return this.pausedOutcome();
      const fetched = await this.fromSource(this.fetchNext());
      if (fetched === null) continue;
      if (fetched.records.length === 0) {
        await this.reportStatus('translate', false);
        if (await othersWaiting()) return 'handover';
        continue;
      }
      await this.account(fetched.records.length, recordCount(fetched.records));
      const messages: {
        key: Buffer | null;
        value: Buffer | null;
        headers: RecordHeader[];
        timestamp: number;
        partition: number;
      }[] = [];
      const upstream: number[] = [];
      for (const batch of decodeRecordBatches(fetched.records)) {
        if (batch.header.isControl) continue;
        for (const r of batch.records) {
          if (r.offset < this.position || passedThrough(r.headers).includes(flow.target)) continue;
          messages.push({
            key: r.key,
            value: r.value,
            headers: [
              ...r.headers,
              originHeader({ cluster: flow.source, topic, partition, offset: r.offset }),
            ],
            timestamp: r.timestamp,
            partition,
          });
          upstream.push(r.offset);
        }
      }
      if (messages.length > 0) {
        this.newestPendingTimestamp = messages[messages.length - 1].timestamp;
        const metas = await producer.send({ topic: this.targetTopic, messages });
        const last = metas[metas.length - 1];
        // Progress covers the whole fetched range: records skipped in it (gaps, cycles) are done too.
        await store.setProgress(flow.name, topic, partition, {
          sourceOffset: fetched.nextOffset,
          targetOffset: last.offset + 1,
        });
        // MM2's rule: a sync on the first record, at any upstream gap, and when downstream moved offset.lag.max past the last sync.
        const first = { upstream: upstream[0], downstream: metas[0].offset };
        const gap =
          lastSync !== null &&
          first.upstream !== lastSync.upstream + (first.downstream - lastSync.downstream);
        if (lastSync === null || gap || first.downstream - lastSync.downstream >= flow.offsetLagMax) {
          await syncs.send({
            topic: offsetSyncsTopic(flow.target),
            messages: [
              {
                key: encodeOffsetSyncKey({ topic, partition }),
                value: encodeOffsetSyncValue({ upstreamOffset: first.upstream, offset: first.downstream }),
                partition: 0,
              },
            ],
          });
          lastSync = first;
        }
        if (topic === HEARTBEATS_TOPIC) {
          for (const m of messages) await store.recordLatency(flow.name, Date.now() - m.timestamp);
        }
      }
      if (messages.length === 0) {
        const previous = await store.progress(flow.name, topic, partition);
        await store.setProgress(flow.name, topic, partition, {
          sourceOffset: fetched.nextOffset,
          targetOffset: previous?.targetOffset ?? 0,
        });
      }
      this.position = fetched.nextOffset;
      this.countCopied(fetched.records, messages.length);
      await this.reportStatus('translate', false);
      if (await othersWaiting()) return 'handover';
    }
    await this.reportStatus('translate', true);
    return 'yield';
  }

  // ---- status ----------------------------------------------------------------------------

  /** A paused unit still shows how far behind its source it falls. */
  private async pausedOutcome(): Promise<UnitOutcome> {
    const { topic, partition } = this.unit;
    const [end] = await this.ctx.source.admin.listOffsets([{ topic, partition }], 'latest');
    this.sourceEnd = end.offset;
    await this.reportStatus(this.mode, true);
    return 'paused';
  }

  private countCopied(records: Buffer, count?: number): void {
    this.bytes += records.length;
    if (count !== undefined) {
      this.records += count;
      return;
    }
    for (let at = 0; at < records.length;) {
      this.records += records.readInt32BE(at + BATCH.RECORD_COUNT);
      at += records.readInt32BE(at + BATCH.BATCH_LENGTH) + BATCH.LOG_OVERHEAD;
    }
  }

  private async recordHeartbeatLatency(records: Buffer): Promise<void> {
    const now = Date.now();
    for (let at = 0; at < records.length;) {
      const maxTimestamp =
        records.readInt32BE(at + BATCH.MAX_TIMESTAMP) * 4294967296 +
        records.readUInt32BE(at + BATCH.MAX_TIMESTAMP + 4);
      await this.ctx.store.recordLatency(this.ctx.flow.name, now - maxTimestamp);
      at += records.readInt32BE(at + BATCH.BATCH_LENGTH) + BATCH.LOG_OVERHEAD;
    }
  }

  private async reportStatus(mode: 'preserve' | 'translate', force: boolean): Promise<void> {
    const now = Date.now();
    if (!force && now - this.lastStatus < STATUS_EVERY_MS) return;
    this.lastStatus = now;
    const lagRecords = Math.max(0, this.sourceEnd - this.position);
    await this.ctx.store.setUnitStatus({
      flow: this.ctx.flow.name,
      topic: this.unit.topic,
      partition: this.unit.partition,
      targetTopic: this.targetTopic,
      mode,
      position: this.position,
      sourceEnd: this.sourceEnd,
      lagRecords,
      lagSeconds:
        lagRecords > 0 && this.newestPendingTimestamp > 0
          ? Math.max(0, (now - this.newestPendingTimestamp) / 1000)
          : 0,
      records: this.records,
      bytes: this.bytes,
      worker: this.ctx.store.workerId,
      updatedAt: now,
      error: this.lastError,
    });
  }

  noteError(message: string): void {
    this.lastError = message;
  }
}

/** Records in whole batches, from their headers. */
function recordCount(records: Buffer): number {
  let n = 0;
  for (let at = 0; at < records.length;) {
    n += records.readInt32BE(at + BATCH.RECORD_COUNT);
    at += records.readInt32BE(at + BATCH.BATCH_LENGTH) + BATCH.LOG_OVERHEAD;
  }
  return n;
}

/** The max timestamp of the last batch (for lag in seconds). */
function lastMaxTimestamp(records: Buffer): number {
  let ts = -1;
  for (let at = 0; at < records.length;) {
    ts =
      records.readInt32BE(at + BATCH.MAX_TIMESTAMP) * 4294967296 +
      records.readUInt32BE(at + BATCH.MAX_TIMESTAMP + 4);
    at += records.readInt32BE(at + BATCH.BATCH_LENGTH) + BATCH.LOG_OVERHEAD;
  }
  return ts;
}

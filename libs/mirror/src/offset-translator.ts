import { Consumer } from '@tributary/client';
import {
  abortedTransactionFilter,
  decodeRecordBatches,
  ErrorCode,
  KafkaProtocolError,
} from '@tributary/protocol';
import type { ClusterClients } from './cluster-clients';
import type { FlowConfig } from './config';
import { decodeOffsetSync, offsetSyncsTopic } from './mm2-formats';
import { lastOrigin } from './provenance';

interface Sync {
  readonly upstream: number;
  readonly downstream: number;
}

/**
 * Translates a consumer group's committed source offset into the target offset where it
 * resumes, exactly: the target record that follows its last committed source record, even
 * across gaps in the source (compaction, transaction markers) and between sync points.
 * MM2 stops at the newest offset sync at or below the offset (and re-delivers from there);
 * here the sync only bounds a short scan of the target's provenance headers. Syncs are read
 * from MM2's offset-syncs topic on the source cluster.
 */
export class OffsetTranslator {
  private readonly syncs = new Map<string, Sync[]>();
  private reader: Consumer | null = null;

  constructor(
    private readonly flow: FlowConfig,
    private readonly source: ClusterClients,
    private readonly target: ClusterClients,
  ) {}

  /** Reads the offset syncs written since the last call. */
  async refresh(): Promise<void> {
    const topic = offsetSyncsTopic(this.flow.target);
    if (this.reader === null) {
      this.reader = new Consumer({
        ...this.source.options(),
        autoOffsetReset: 'earliest',
        fetchMaxWaitMs: 50,
      });
      this.reader.assign([{ topic, partition: 0 }]);
    }
    const [end] = await this.source.admin.listOffsets([{ topic, partition: 0 }], 'latest');
    if (end.offset <= 0 || this.reader.position({ topic, partition: 0 }) >= end.offset) return;
    const reader = this.reader;
    await reader.run({
      eachMessage: (m) => {
        if (m.key !== null && m.value !== null) {
          const s = decodeOffsetSync(m.key, m.value);
          const k = `${s.topic}|${s.partition}`;
          const list = this.syncs.get(k) ?? [];
          list.push({ upstream: s.upstreamOffset, downstream: s.offset });
          this.syncs.set(k, list);
        }
        if (m.offset + 1 >= end.offset) void reader.stop();
      },
    });
  }

  /**
   * The target offset for a committed source offset, or null when nothing of the partition
   * has been mirrored yet.
   */
  async translate(
    topic: string,
    targetTopic: string,
    partition: number,
    committed: number,
  ): Promise<number | null> {
    const list = this.syncs.get(`${topic}|${partition}`);
    if (list === undefined || list.length === 0) return null;
    let sync: Sync | null = null;
    for (const s of list)
      if (s.upstream <= committed && (sync === null || s.upstream >= sync.upstream)) sync = s;
    // Committed before everything mirrored: it resumes at the first mirrored record.
    if (sync === null) return list.reduce((a, b) => (b.upstream < a.upstream ? b : a)).downstream;
    if (sync.upstream === committed) return sync.downstream;
    let at = sync.downstream;
    let afterLastOurs = sync.downstream + 1;
    const [end] = await this.target.admin.listOffsets([{ topic: targetTopic, partition }], 'latest');
    while (at < end.offset) {
      // read_committed: a translated offset never points past the target's commits nor at an aborted copy.
      const f = await this.target.fetchRaw(targetTopic, partition, at, 1 << 20, 0, 1);
      if (f.errorCode !== ErrorCode.NONE)
        throw new KafkaProtocolError(f.errorCode, `scanning ${targetTopic}-${partition}`);
      if (f.records.length === 0) break;
      const aborted = abortedTransactionFilter(f.abortedTransactions);
      for (const batch of decodeRecordBatches(f.records)) {
        if (aborted(batch)) continue;
        for (const r of batch.records) {
          if (r.offset < at) continue;
          const o = lastOrigin(r.headers);
          if (o === null || o.cluster !== this.flow.source || o.topic !== topic || o.partition !== partition)
            continue;
          if (o.offset >= committed) return r.offset;
          afterLastOurs = r.offset + 1;
        }
      }
      at = f.nextOffset;
    }
    return afterLastOurs;
  }

  async close(): Promise<void> {
    await this.reader?.close();
  }
}

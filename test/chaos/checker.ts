import type { Ack, CommittedOffset } from './history';
import type { StoredBatch } from './segments';

/** A record as a reader (kcat) got it back, with its batch's producer id and epoch when known. */
export interface StoredRecord {
  readonly offset: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly producer?: { readonly id: number; readonly epoch: number };
}

/** The checks, in the order the summary lists them; the target is zero findings for each. */
export const CHECKS = [
  'acknowledged records lost',
  'records duplicated',
  'records reordered',
  'replicas differing below the HW',
  'committed offsets going back',
  'records committed, never delivered',
  'mirror records differing',
  'writes not resumed after healing',
] as const;
export type CheckName = (typeof CHECKS)[number];

export interface Finding {
  readonly check: CheckName;
  readonly detail: string;
}

/** "ours-12" -> ["ours", 12]; null for a value no producer of the workload wrote. */
function producerAndSeq(value: string | null): [string, number] | null {
  const m = value === null ? null : /^(.+)-(\d+)$/.exec(value);
  return m === null ? null : [m[1], Number(m[2])];
}

/**
 * The copies of values ("partition/offset") that their producer sent again under a later
 * epoch of the same producer id than the copy before: an idempotent producer that bumps its epoch (KIP-360) resends
 * what it has no answer for with new sequence numbers, which no broker can tell from new
 * records, so the copy is the client's doing (librdkafka does so after a request times out,
 * confluentinc/librdkafka#4953). The broker's part, a retry within one epoch stored twice,
 * stays a duplicate.
 */
export function resentUnderNewEpoch(stored: ReadonlyMap<number, readonly StoredRecord[]>): Set<string> {
  const resent = new Set<string>();
  for (const [p, records] of stored) {
    const latest = new Map<string, StoredRecord>();
    for (const r of records) {
      if (r.value === null) continue;
      const before = latest.get(r.value);
      latest.set(r.value, r);
      if (
        before?.producer !== undefined &&
        r.producer?.id === before.producer.id &&
        r.producer.epoch > before.producer.epoch
      )
        resent.add(`${p}/${r.offset}`);
    }
  }
  return resent;
}

/**
 * The producers' view against the stored log: every acknowledged record is at its offset
 * (lost), every value is stored once (duplicated), and each producer's records lie in a
 * partition in the order it sent them (reordered). Copies in `resent` (resentUnderNewEpoch)
 * are neither duplicates nor out of order.
 */
export function checkAcks(
  acks: readonly Ack[],
  stored: ReadonlyMap<number, readonly StoredRecord[]>,
  resent: ReadonlySet<string> = new Set(),
): Finding[] {
  const findings: Finding[] = [];
  const byOffset = new Map<number, Map<number, StoredRecord>>();
  const values = new Map<number, Set<string | null>>();
  for (const [p, records] of stored) {
    byOffset.set(p, new Map(records.map((r) => [r.offset, r])));
    values.set(p, new Set(records.map((r) => r.value)));
  }
  for (const a of acks) {
    // An acknowledgement without an offset (-1) only says the record is in the partition.
    if (a.offset < 0) {
      if (!(values.get(a.partition)?.has(a.value) ?? false))
        findings.push({
          check: 'acknowledged records lost',
          detail: `${a.value} acknowledged (without an offset) in partition ${a.partition} (${new Date(a.t).toISOString()}); not stored there`,
        });
      continue;
    }
    const r = byOffset.get(a.partition)?.get(a.offset);
    if (r?.value !== a.value)
      findings.push({
        check: 'acknowledged records lost',
        detail: `${a.value} acknowledged at ${a.partition}/${a.offset} (${new Date(a.t).toISOString()}); stored there: ${r === undefined ? 'nothing' : r.value}`,
      });
  }
  const seen = new Map<string, string[]>();
  for (const [p, records] of stored) {
    const last = new Map<string, number>();
    for (const r of records) {
      const at = `${p}/${r.offset}`;
      if (r.value === null || resent.has(at)) continue;
      const places = seen.get(r.value);
      if (places === undefined) seen.set(r.value, [at]);
      else places.push(at);
      const ps = producerAndSeq(r.value);
      if (ps === null) continue;
      const [producer, seq] = ps;
      const before = last.get(producer);
      if (before !== undefined && seq < before)
        findings.push({
          check: 'records reordered',
          detail: `partition ${p}: ${r.value} at offset ${r.offset} after ${producer}-${before}`,
        });
      last.set(producer, Math.max(seq, before ?? seq));
    }
  }
  for (const [value, places] of seen)
    if (places.length > 1)
      findings.push({
        check: 'records duplicated',
        detail: `${value} stored ${places.length} times: ${places.join(', ')}`,
      });
  return findings;
}

export interface ReplicaLogs {
  /** "topic-partition". */
  readonly partition: string;
  readonly highWatermark: number;
  readonly replicas: readonly { readonly replica: string; readonly batches: readonly StoredBatch[] }[];
}

/** Every replica of a partition holds the same batches, byte for byte, below the high watermark. */
export function checkReplicas(partitions: readonly ReplicaLogs[]): Finding[] {
  const findings: Finding[] = [];
  for (const { partition, highWatermark, replicas } of partitions) {
    const below = replicas.map((r) => ({
      replica: r.replica,
      batches: r.batches.filter((b) => b.lastOffset < highWatermark),
    }));
    for (const r of below) {
      const end = r.batches.length === 0 ? 0 : r.batches[r.batches.length - 1].lastOffset + 1;
      if (end < highWatermark)
        findings.push({
          check: 'replicas differing below the HW',
          detail: `${partition}: ${r.replica} holds offsets below ${end} only, the high watermark is ${highWatermark}`,
        });
    }
    const [first, ...rest] = below;
    for (const r of rest) {
      const n = Math.min(first.batches.length, r.batches.length);
      const i = [...Array(n).keys()].find((k) => !first.batches[k].bytes.equals(r.batches[k].bytes));
      if (i !== undefined)
        findings.push({
          check: 'replicas differing below the HW',
          detail: `${partition}: ${first.replica} and ${r.replica} differ from the batch at offset ${first.batches[i].baseOffset}/${r.batches[i].baseOffset} (high watermark ${highWatermark})`,
        });
    }
  }
  return findings;
}

/**
 * A group's committed offset never goes back as readers see it: an OffsetFetch returns no less
 * than any commit acknowledged before it was sent, nor than any OffsetFetch answered before it
 * was sent. (A fetch in flight while a commit lands may see either, so only those orders count.)
 * A lower value is no finding when a commit of that value was in flight then and may have been
 * applied after the higher one (a member's commits that overlapped, the earlier one retried).
 */
export function checkCommittedOffsets(offsets: readonly CommittedOffset[]): Finding[] {
  const findings: Finding[] = [];
  const series = new Map<string, CommittedOffset[]>();
  for (const o of offsets) {
    const k = `${o.group} partition ${o.partition}`;
    const list = series.get(k);
    if (list === undefined) series.set(k, [o]);
    else list.push(o);
  }
  const when = (o: CommittedOffset) =>
    o.source === 'commit'
      ? `a commit acknowledged to ${o.by} at ${new Date(o.t).toISOString()}`
      : `an OffsetFetch answered at ${new Date(o.answered ?? o.t).toISOString()}`;
  for (const [k, list] of series) {
    // A commit's acknowledgement and a fetch's answer raise the floor; a fetch's sending checks it.
    const events = list.flatMap((o) =>
      o.source === 'commit'
        ? [{ t: o.t, check: false, o }]
        : [
            { t: o.t, check: true, o },
            { t: o.answered ?? o.t, check: false, o },
          ],
    );
    events.sort((a, b) => a.t - b.t || Number(b.check) - Number(a.check));
    const commits = list.filter((o) => o.source === 'commit');
    // The earliest moment the floor's value may have taken effect.
    const since = (f: CommittedOffset) => (f.source === 'commit' ? (f.sent ?? f.t) : f.t);
    const overlapped = (fetch: CommittedOffset, f: CommittedOffset) =>
      commits.some(
        (c) => c.offset === fetch.offset && (c.sent ?? c.t) <= (fetch.answered ?? fetch.t) && c.t > since(f),
      );
    let floor: CommittedOffset | null = null;
    for (const e of events) {
      if (!e.check) {
        if (floor === null || e.o.offset > floor.offset) floor = e.o;
      } else if (floor !== null && e.o.offset < floor.offset && !overlapped(e.o, floor))
        findings.push({
          check: 'committed offsets going back',
          detail: `${k}: an OffsetFetch sent at ${new Date(e.t).toISOString()} returned ${e.o.offset}, after ${when(floor)} had ${floor.offset}`,
        });
    }
  }
  return findings;
}

/** Every acknowledged record below a group's final committed offset was handed to one of its members. */
export function checkDelivered(
  acks: readonly Ack[],
  consumed: ReadonlyMap<string, ReadonlyMap<number, ReadonlySet<number>>>,
  committed: ReadonlyMap<string, ReadonlyMap<number, number>>,
): Finding[] {
  const findings: Finding[] = [];
  for (const [group, ends] of committed) {
    for (const a of acks) {
      const end = ends.get(a.partition) ?? -1;
      // An acknowledgement without an offset (-1) cannot be placed below or above the commit.
      if (a.offset >= 0 && a.offset < end && !(consumed.get(group)?.get(a.partition)?.has(a.offset) ?? false))
        findings.push({
          check: 'records committed, never delivered',
          detail: `${group}: ${a.value} at ${a.partition}/${a.offset}, below its committed offset ${end}`,
        });
    }
  }
  return findings;
}

/** The mirror topic holds each source partition record for record: offset, key and value. */
export function checkMirror(
  source: ReadonlyMap<number, readonly StoredRecord[]>,
  target: ReadonlyMap<number, readonly StoredRecord[]>,
): Finding[] {
  const findings: Finding[] = [];
  const show = (r: StoredRecord | undefined) =>
    r === undefined ? 'nothing' : `${r.offset}:${r.key}=${r.value}`;
  for (const [p, original] of source) {
    const copy = target.get(p) ?? [];
    const n = Math.max(original.length, copy.length);
    for (let i = 0; i < n; i++) {
      const a = original[i];
      const b = copy[i];
      if (a?.offset !== b?.offset || a?.key !== b?.key || a?.value !== b?.value) {
        findings.push({
          check: 'mirror records differing',
          detail: `partition ${p}: source has ${original.length} records, mirror ${copy.length}; first difference at record ${i}: source ${show(a)}, mirror ${show(b)}`,
        });
        break;
      }
    }
  }
  return findings;
}

/**
 * Every producer has writes acknowledged again in every partition once the faults healed: a
 * partition that stays silent (a producer stuck on a fenced sequence, a leader never elected)
 * is lost availability, which only shows after healing.
 */
export function checkResumed(
  acks: readonly Ack[],
  producers: readonly string[],
  partitions: number,
  healedAt: number,
): Finding[] {
  const last = new Map<string, number>();
  for (const a of acks) {
    const k = `${a.producer} ${a.partition}`;
    last.set(k, Math.max(a.t, last.get(k) ?? 0));
  }
  const findings: Finding[] = [];
  for (const producer of producers)
    for (let p = 0; p < partitions; p++) {
      const t = last.get(`${producer} ${p}`);
      if (t !== undefined && t > healedAt) continue;
      findings.push({
        check: 'writes not resumed after healing',
        detail: `${producer}: nothing acknowledged in partition ${p} after healing; ${t === undefined ? 'never anything' : `the last ${((healedAt - t) / 1000).toFixed(1)} s before (${new Date(t).toISOString()})`}`,
      });
    }
  return findings;
}

export interface Silence {
  readonly partition: number;
  readonly ms: number;
  /** The window with no acknowledged write (epoch ms). */
  readonly from: number;
  readonly to: number;
}

/** Per partition, the longest time within [from, to] in which no producer had a write acknowledged. */
export function longestSilences(
  acks: readonly Ack[],
  partitions: number,
  from: number,
  to: number,
): Silence[] {
  const times = Array.from({ length: partitions }, () => [from]);
  for (const a of acks) if (a.t >= from && a.t <= to) times[a.partition].push(a.t);
  return times.map((ts, partition) => {
    ts.push(to);
    ts.sort((x, y) => x - y);
    let best: Silence = { partition, ms: 0, from, to: from };
    for (let i = 1; i < ts.length; i++)
      if (ts[i] - ts[i - 1] > best.ms)
        best = { partition, ms: ts[i] - ts[i - 1], from: ts[i - 1], to: ts[i] };
    return best;
  });
}

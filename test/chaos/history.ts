import fs from 'node:fs';
import path from 'node:path';

/** A record a producer was told is stored: `value` at `offset` of `partition`, the `seq`-th it sent. */
export interface Ack {
  readonly producer: string;
  readonly seq: number;
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
  /** When the acknowledgement arrived (epoch ms). */
  readonly t: number;
}

/** A committed offset: acknowledged to a member (`source: 'commit'`) or read back by OffsetFetch (`'fetch'`). */
export interface CommittedOffset {
  readonly group: string;
  readonly source: 'commit' | 'fetch';
  /** The member that committed, or the client that fetched. */
  readonly by: string;
  readonly partition: number;
  readonly offset: number;
  /** For a commit, when it was acknowledged; for a fetch, when the request was sent (epoch ms). */
  readonly t: number;
  /** For a fetch, when it was answered. */
  readonly answered?: number;
  /** For a commit, when it was sent, if the member may have had another commit in flight meanwhile. */
  readonly sent?: number;
}

/** Everything the workload saw, which the checker holds the stored logs against. */
export class History {
  readonly acks: Ack[] = [];
  /** Offsets each group's members were handed, by group and partition. */
  readonly consumed = new Map<string, Map<number, Set<number>>>();
  readonly offsets: CommittedOffset[] = [];
  /** Failures by who failed and why: a producer's sends (their records may or may not be stored), the offset sampler's reads. */
  readonly failures = new Map<string, Map<string, number>>();
  /** Notable client events (fatal errors, restarts of a client), with their time. */
  readonly notes: { t: number; what: string }[] = [];

  ack(a: Ack): void {
    this.acks.push(a);
  }

  delivered(group: string, partition: number, offset: number): void {
    let byPartition = this.consumed.get(group);
    if (byPartition === undefined) this.consumed.set(group, (byPartition = new Map()));
    let offsets = byPartition.get(partition);
    if (offsets === undefined) byPartition.set(partition, (offsets = new Set()));
    offsets.add(offset);
  }

  failed(who: string, reason: string): void {
    let reasons = this.failures.get(who);
    if (reasons === undefined) this.failures.set(who, (reasons = new Map()));
    // Numbers vary from one failure to the next; the kind of failure is what is counted.
    const kind = reason.replace(/\d+/g, 'N').slice(0, 160);
    reasons.set(kind, (reasons.get(kind) ?? 0) + 1);
  }

  note(what: string): void {
    this.notes.push({ t: Date.now(), what });
  }

  /**
   * Writes the history as files into `dir` for a failure's post-mortem: acks.tsv, and
   * offsets.tsv (time, a fetch's answer or a commit's sending, group, source, by, partition, offset).
   */
  save(dir: string): void {
    fs.writeFileSync(
      path.join(dir, 'acks.tsv'),
      this.acks.map((a) => `${a.t}\t${a.producer}\t${a.seq}\t${a.partition}\t${a.offset}`).join('\n') + '\n',
    );
    fs.writeFileSync(
      path.join(dir, 'offsets.tsv'),
      this.offsets
        .map(
          (o) =>
            `${o.t}\t${o.answered ?? o.sent ?? ''}\t${o.group}\t${o.source}\t${o.by}\t${o.partition}\t${o.offset}`,
        )
        .join('\n') + '\n',
    );
  }
}

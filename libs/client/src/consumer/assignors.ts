/**
 * Partition assignors, run by the group leader: the Java client's range, roundrobin and
 * cooperative-sticky. Each maps member id -> topic -> partitions, given every member's
 * subscription and each topic's partition count.
 */
export type TopicPartitions = Map<string, number[]>;

export interface MemberSubscription {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly topics: readonly string[];
  /** What the member owned (cooperative protocol), and in which generation. */
  readonly ownedPartitions: readonly { topic: string; partitions: readonly number[] }[];
  readonly generationId: number;
}

export interface Assignor {
  readonly name: string;
  /** EAGER members give up everything before a rebalance; COOPERATIVE ones only what moves. */
  readonly rebalanceProtocol: 'EAGER' | 'COOPERATIVE';
  assign(
    members: readonly MemberSubscription[],
    partitionCounts: ReadonlyMap<string, number>,
  ): Map<string, TopicPartitions>;
}

function emptyAssignment(members: readonly MemberSubscription[]): Map<string, TopicPartitions> {
  return new Map(members.map((m) => [m.memberId, new Map<string, number[]>()]));
}

function add(a: TopicPartitions, topic: string, partition: number): void {
  const list = a.get(topic);
  if (list === undefined) a.set(topic, [partition]);
  else list.push(partition);
}

/** Members in a stable order: static members by instance id, then dynamic ones by member id (as Java sorts). */
function sortedMembers(members: readonly MemberSubscription[]): MemberSubscription[] {
  return [...members].sort((a, b) => {
    const ka = a.groupInstanceId ?? `\uffff${a.memberId}`;
    const kb = b.groupInstanceId ?? `\uffff${b.memberId}`;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/** range: per topic, consecutive partition ranges, the first members taking one extra. */
export const rangeAssignor: Assignor = {
  name: 'range',
  rebalanceProtocol: 'EAGER',
  assign(members, partitionCounts) {
    const out = emptyAssignment(members);
    const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
    for (const topic of topics) {
      const count = partitionCounts.get(topic);
      if (count === undefined) continue;
      const consumers = sortedMembers(members.filter((m) => m.topics.includes(topic)));
      const per = Math.floor(count / consumers.length);
      const extra = count % consumers.length;
      consumers.forEach((m, i) => {
        const start = per * i + Math.min(i, extra);
        const length = per + (i < extra ? 1 : 0);
        for (let p = start; p < start + length; p++) add(out.get(m.memberId) as TopicPartitions, topic, p);
      });
    }
    return out;
  },
};

/** roundrobin: every topic-partition in order, dealt to the members in turn, skipping non-subscribers. */
export const roundRobinAssignor: Assignor = {
  name: 'roundrobin',
  rebalanceProtocol: 'EAGER',
  assign(members, partitionCounts) {
    const out = emptyAssignment(members);
    const consumers = sortedMembers(members);
    const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
    let next = 0;
    for (const topic of topics) {
      const count = partitionCounts.get(topic) ?? 0;
      for (let p = 0; p < count; p++) {
        for (let tries = 0; tries < consumers.length; tries++) {
          const m = consumers[next % consumers.length];
          next++;
          if (m.topics.includes(topic)) {
            add(out.get(m.memberId) as TopicPartitions, topic, p);
            break;
          }
        }
      }
    }
    return out;
  },
};

const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * cooperative-sticky: keeps every member's valid owned partitions, balances so counts differ
 * by at most one, and withholds a partition that changes owner until its previous owner has
 * revoked it (the members rejoin after revoking, and the next rebalance hands it over). So
 * only the partitions that must move stop being consumed, and never by two members at once.
 */
export const cooperativeStickyAssignor: Assignor = {
  name: 'cooperative-sticky',
  rebalanceProtocol: 'COOPERATIVE',
  assign(members, partitionCounts) {
    const all: { topic: string; partition: number }[] = [];
    for (const topic of [...partitionCounts.keys()].sort()) {
      if (!members.some((m) => m.topics.includes(topic))) continue;
      for (let p = 0; p < (partitionCounts.get(topic) as number); p++) all.push({ topic, partition: p });
    }
    // Previous owners: when two members claim a partition, the higher generation wins.
    const previousOwner = new Map<string, { memberId: string; generation: number }>();
    for (const m of members) {
      for (const o of m.ownedPartitions) {
        for (const p of o.partitions) {
          const k = tpKey(o.topic, p);
          const prev = previousOwner.get(k);
          if (prev === undefined || m.generationId > prev.generation)
            previousOwner.set(k, { memberId: m.memberId, generation: m.generationId });
        }
      }
    }
    const byId = new Map(members.map((m) => [m.memberId, m]));
    const current = new Map<string, { topic: string; partition: number }[]>(
      members.map((m) => [m.memberId, []]),
    );
    const unassigned: { topic: string; partition: number }[] = [];
    for (const tp of all) {
      const owner = previousOwner.get(tpKey(tp.topic, tp.partition));
      const m = owner === undefined ? undefined : byId.get(owner.memberId);
      if (m !== undefined && m.topics.includes(tp.topic)) current.get(m.memberId)?.push(tp);
      else unassigned.push(tp);
    }
    const sorted = sortedMembers(members);
    const eligible = (m: MemberSubscription, tp: { topic: string }): boolean => m.topics.includes(tp.topic);
    // Quotas: counts differ by at most one across members subscribed to everything they could take.
    const quota = Math.floor(all.length / Math.max(1, members.length));
    let extras = all.length - quota * members.length;
    const maxFor = new Map<string, number>();
    for (const m of [...sorted].sort(
      (a, b) => (current.get(b.memberId)?.length ?? 0) - (current.get(a.memberId)?.length ?? 0),
    )) {
      const wantsExtra = extras > 0 && (current.get(m.memberId)?.length ?? 0) > quota;
      maxFor.set(m.memberId, quota + (wantsExtra ? 1 : 0));
      if (wantsExtra) extras--;
    }
    for (const m of sorted) {
      if (extras > 0 && maxFor.get(m.memberId) === quota) {
        maxFor.set(m.memberId, quota + 1);
        extras--;
      }
    }
    for (const m of sorted) {
      const mine = current.get(m.memberId) as { topic: string; partition: number }[];
      const max = maxFor.get(m.memberId) as number;
      while (mine.length > max) unassigned.push(mine.pop() as { topic: string; partition: number });
    }
    unassigned.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
    for (const tp of unassigned) {
      const candidates = sorted.filter((m) => eligible(m, tp));
      if (candidates.length === 0) continue;
      const least = candidates.reduce((best, m) => {
        const n = current.get(m.memberId)?.length ?? 0;
        const room = n < (maxFor.get(m.memberId) ?? 0);
        const bestN = current.get(best.memberId)?.length ?? 0;
        const bestRoom = bestN < (maxFor.get(best.memberId) ?? 0);
        if (room !== bestRoom) return room ? m : best;
        return n < bestN ? m : best;
      });
      current.get(least.memberId)?.push(tp);
    }
    const out = emptyAssignment(members);
    for (const [memberId, tps] of current) {
      for (const tp of tps) {
        const prev = previousOwner.get(tpKey(tp.topic, tp.partition));
        // Moving from a member still in the group: hand over only after it has revoked.
        if (prev !== undefined && prev.memberId !== memberId && byId.has(prev.memberId)) continue;
        add(out.get(memberId) as TopicPartitions, tp.topic, tp.partition);
      }
    }
    for (const a of out.values()) for (const list of a.values()) list.sort((x, y) => x - y);
    return out;
  },
};

export const ASSIGNORS: Readonly<Record<string, Assignor>> = {
  range: rangeAssignor,
  roundrobin: roundRobinAssignor,
  'cooperative-sticky': cooperativeStickyAssignor,
};

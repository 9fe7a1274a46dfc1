import type { PartitionState } from '@tributary/broker';

/** What the controller knows of the brokers when it decides. */
export interface BrokerLiveness {
  /** Registered brokers whose replicas are online (a broker whose registration expired is dead; one whose log dir failed, offline). */
  readonly alive: ReadonlySet<number>;
  /** Brokers in controlled shutdown: alive, but to lead nothing and leave the ISRs. */
  readonly shuttingDown: ReadonlySet<number>;
}

/** The replicas a reassignment keeps: all of them but those being removed, in order. */
export function targetReplicas(s: PartitionState): number[] {
  return s.replicas.filter((r) => !s.removingReplicas.includes(r));
}

/** The preferred leader: the first replica of the (target) assignment. */
export function preferredLeader(s: PartitionState): number {
  return targetReplicas(s)[0] ?? -1;
}

const eligible = (id: number, b: BrokerLiveness): boolean => b.alive.has(id) && !b.shuttingDown.has(id);

function withLeader(s: PartitionState, leaderId: number, isr: readonly number[]): PartitionState {
  const changed = leaderId !== s.leaderId;
  return { ...s, leaderId, leaderEpoch: changed ? s.leaderEpoch + 1 : s.leaderEpoch, isr };
}

function sameState(a: PartitionState, b: PartitionState): boolean {
  const eq = (x: readonly number[], y: readonly number[]) =>
    x.length === y.length && x.every((v, i) => v === y[i]);
  return (
    a.leaderId === b.leaderId &&
    a.leaderEpoch === b.leaderEpoch &&
    eq(a.replicas, b.replicas) &&
    eq(a.isr, b.isr) &&
    eq(a.addingReplicas, b.addingReplicas) &&
    eq(a.removingReplicas, b.removingReplicas)
  );
}

/**
 * The state a partition should move to given the brokers' liveness, or null when it is
 * fine (the controller's reconciliation, Kafka's partition and replica state machines):
 *
 * - a leader that died or is shutting down is replaced by the first replica (in assignment
 *   order, so the preferred one first) that is in the ISR, alive and not shutting down;
 *   with none, a shutting-down leader keeps leading (nothing else has its data), a dead one
 *   is replaced by any live replica only with unclean.leader.election.enable (losing what
 *   it lacks; the ISR becomes that replica), or else the partition has no leader and keeps
 *   its ISR, so that its last member can lead cleanly when it comes back;
 * - dead and shutting-down followers leave the ISR;
 * - a reassignment completes once every replica being added is in the ISR: the replica set
 *   becomes the target, the ISR keeps only target replicas, and the leader epoch grows (a
 *   new leader from the target if the old one was removed) so removed replicas are fenced.
 *
 * The leader epoch grows with every change of leader; every change grows the partition epoch.
 */
export function reconcilePartition(
  s: PartitionState,
  brokers: BrokerLiveness,
  uncleanLeaderElection: boolean,
): PartitionState | null {
  let next: PartitionState = s;
  const leaderOk = s.leaderId >= 0 && eligible(s.leaderId, brokers);
  if (!leaderOk) {
    const candidate = s.replicas.find((r) => s.isr.includes(r) && eligible(r, brokers));
    if (candidate !== undefined) {
      next = withLeader(
        s,
        candidate,
        s.isr.filter((r) => r === candidate || eligible(r, brokers)),
      );
    } else if (s.leaderId >= 0 && brokers.alive.has(s.leaderId)) {
      // Controlled shutdown of the only in-sync replica: it keeps leading.
      next = { ...s, isr: s.isr.filter((r) => r === s.leaderId || eligible(r, brokers)) };
    } else {
      const unclean = uncleanLeaderElection ? s.replicas.find((r) => eligible(r, brokers)) : undefined;
      if (unclean !== undefined) next = withLeader(s, unclean, [unclean]);
      else if (s.leaderId !== -1) next = withLeader(s, -1, s.isr);
    }
  } else {
    next = { ...s, isr: s.isr.filter((r) => r === s.leaderId || eligible(r, brokers)) };
  }
  const reassigning = next.addingReplicas.length > 0 || next.removingReplicas.length > 0;
  const target = targetReplicas(next);
  const isr = next.isr.filter((r) => target.includes(r));
  if (
    reassigning &&
    next.leaderId >= 0 &&
    next.addingReplicas.every((r) => next.isr.includes(r)) &&
    isr.some((r) => eligible(r, brokers))
  ) {
    const leader = target.includes(next.leaderId) ? next.leaderId : isr.find((r) => eligible(r, brokers))!;
    next = {
      ...next,
      replicas: target,
      addingReplicas: [],
      removingReplicas: [],
      leaderId: leader,
      // Once per change: the new epoch fences the replicas that were removed.
      leaderEpoch: next.leaderEpoch !== s.leaderEpoch ? next.leaderEpoch : s.leaderEpoch + 1,
      isr,
    };
  }
  if (sameState(next, s)) return null;
  return { ...next, partitionEpoch: s.partitionEpoch + 1 };
}

/**
 * Preferred leader election: the preferred replica takes over when it is alive, not shutting
 * down and in the ISR. null when it already leads or cannot.
 */
export function electPreferred(s: PartitionState, brokers: BrokerLiveness): PartitionState | null {
  const preferred = preferredLeader(s);
  if (preferred < 0 || preferred === s.leaderId) return null;
  if (!eligible(preferred, brokers) || !s.isr.includes(preferred)) return null;
  return { ...withLeader(s, preferred, s.isr), partitionEpoch: s.partitionEpoch + 1 };
}

/** Unclean election (ElectLeaders UNCLEAN) for a partition without a leader: any live replica. */
export function electUnclean(s: PartitionState, brokers: BrokerLiveness): PartitionState | null {
  if (s.leaderId >= 0 && brokers.alive.has(s.leaderId)) return null;
  const inIsr = s.replicas.find((r) => s.isr.includes(r) && eligible(r, brokers));
  const leader = inIsr ?? s.replicas.find((r) => eligible(r, brokers));
  if (leader === undefined) return null;
  const isr = inIsr !== undefined ? s.isr.filter((r) => eligible(r, brokers)) : [leader];
  return { ...withLeader(s, leader, isr), partitionEpoch: s.partitionEpoch + 1 };
}

/**
 * A new reassignment (KIP-455): the replica set becomes the target followed by the original
 * replicas it drops, which are marked removing; the target's new replicas are marked adding.
 * An ongoing reassignment is replaced, measured from its original replicas. A target equal
 * to the original replicas cancels.
 */
export function startReassignment(s: PartitionState, target: readonly number[]): PartitionState {
  const original = s.replicas.filter((r) => !s.addingReplicas.includes(r));
  const adding = target.filter((r) => !original.includes(r));
  const removing = original.filter((r) => !target.includes(r));
  if (adding.length === 0 && removing.length === 0) return cancelReassignment(s, original);
  return {
    ...s,
    replicas: [...target, ...removing],
    addingReplicas: adding,
    removingReplicas: removing,
    isr: s.isr.filter((r) => target.includes(r) || original.includes(r)),
    partitionEpoch: s.partitionEpoch + 1,
  };
}

/** Cancels a reassignment: back to the original replicas; a replica that was being added and led gives way. */
export function cancelReassignment(
  s: PartitionState,
  original = s.replicas.filter((r) => !s.addingReplicas.includes(r)),
): PartitionState {
  const isr = s.isr.filter((r) => original.includes(r));
  const leader = original.includes(s.leaderId) ? s.leaderId : (original.find((r) => isr.includes(r)) ?? -1);
  return {
    ...withLeader(s, leader, isr.length > 0 ? isr : s.isr),
    replicas: original,
    addingReplicas: [],
    removingReplicas: [],
    partitionEpoch: s.partitionEpoch + 1,
  };
}

import { subscribedTopicsOf } from './group-records';

/**
 * One consumer group of Kafka's classic rebalance protocol: its members, generation, chosen
 * protocol, committed offsets, and the state machine
 *
 *   Empty -> PreparingRebalance -> CompletingRebalance -> Stable
 *              ^        |                  |                 |
 *              |        +--> Empty         +-----------------+--> PreparingRebalance
 *   any state -> Dead (deleted, or expired with no offsets left)
 *
 * This class holds state and answers questions about it; the coordinator decides when to
 * move it and owns the timers.
 */
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

const VALID_PREVIOUS_STATES: Record<GroupState, readonly GroupState[]> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
};

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

export interface Protocol {
  readonly name: string;
  readonly metadata: Buffer;
}

export interface JoinGroupResult {
  readonly errorCode: number;
  readonly memberId: string;
  readonly generationId: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly leaderId: string;
  readonly skipAssignment: boolean;
  /** Every member's metadata for the chosen protocol: for the leader only. */
  readonly members: readonly { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncGroupResult {
  readonly errorCode: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignment: Buffer;
}

export function joinError(memberId: string, errorCode: number): JoinGroupResult {
  return {
    errorCode,
    memberId,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leaderId: '',
    skipAssignment: false,
    members: [],
  };
}

export function syncError(errorCode: number): SyncGroupResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
}

export const EMPTY = Buffer.alloc(0);

export class MemberMetadata {
  assignment: Buffer = EMPTY;
  /** The pending JoinGroup's answer, while the member waits for the rebalance. */
  awaitingJoin: ((result: JoinGroupResult) => void) | null = null;
  /** The pending SyncGroup's answer, while the member waits for the leader's assignment. */
  awaitingSync: ((result: SyncGroupResult) => void) | null = null;
  /** Joined in the current rebalance and not yet through it: expires by the new-member timeout. */
  isNew = false;
  heartbeatTimer: NodeJS.Timeout | null = null;

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    readonly clientId: string,
    readonly clientHost: string,
    public rebalanceTimeoutMs: number,
    public sessionTimeoutMs: number,
    readonly protocolType: string,
    public protocols: readonly Protocol[],
  ) {}

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }

  get isAwaitingJoin(): boolean {
    return this.awaitingJoin !== null;
  }

  get isAwaitingSync(): boolean {
    return this.awaitingSync !== null;
  }

  metadata(protocol: string): Buffer {
    const p = this.protocols.find((x) => x.name === protocol);
    if (p === undefined) throw new Error(`member ${this.memberId} does not support protocol ${protocol}`);
    return p.metadata;
  }

  /** Same protocols, in the same order, with the same metadata. */
  matches(protocols: readonly Protocol[]): boolean {
    return (
      protocols.length === this.protocols.length &&
      protocols.every(
        (p, i) => p.name === this.protocols[i].name && p.metadata.equals(this.protocols[i].metadata),
      )
    );
  }

  /** The member's first choice among the candidates. */
  vote(candidates: ReadonlySet<string>): string {
    const choice = this.protocols.find((p) => candidates.has(p.name));
    if (choice === undefined)
      throw new Error(`member ${this.memberId} supports none of the candidate protocols`);
    return choice.name;
  }
}

export interface CommittedOffset {
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestamp: number;
  readonly expireTimestamp: number | null;
}

/** A group's offset for one partition, with where its record is in __consumer_offsets. */
export interface GroupOffset {
  readonly topic: string;
  readonly partition: number;
  readonly value: CommittedOffset;
  /** The offset of its record in __consumer_offsets (the later record wins); -1 when unknown. */
  readonly appendedAt: number;
}

export function topicPartitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class ConsumerGroup {
  private _state: GroupState;
  /** When the group entered its state (for offset expiry of empty groups); -1 when unknown. */
  currentStateTimestamp: number;
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, MemberMetadata>();
  /** group.instance.id -> member id of the static members. */
  readonly staticMembers = new Map<string, string>();
  /** Members given an id with MEMBER_ID_REQUIRED that have not joined with it yet, with their expiry timers. */
  readonly pendingMembers = new Map<string, NodeJS.Timeout>();
  /** Members of the new generation that have not sent SyncGroup yet. */
  readonly pendingSyncMembers = new Set<string>();
  /** How often each protocol is supported, to find the ones every member supports. */
  private readonly supportedProtocols = new Map<string, number>();
  /** Topics the members subscribe to (consumer protocol); null when not known. */
  subscribedTopics: ReadonlySet<string> | null = null;
  /** Committed offsets by topicPartitionKey. */
  readonly offsets = new Map<string, GroupOffset>();
  /**
   * Offsets committed in transactions not yet ended (TxnOffsetCommit), by producer id and
   * topicPartitionKey: they become the group's on COMMIT, and go on ABORT.
   */
  readonly pendingTransactionalOffsets = new Map<number, Map<string, GroupOffset>>();
  /** Set when a member joined during the initial delay: the delay is extended once more. */
  newMemberAdded = false;
  joinTimer: NodeJS.Timeout | null = null;
  /** The pending join is the initial delay of an empty group, which waits its time out. */
  initialDelayPending = false;
  syncTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly groupId: string,
    state: GroupState,
    now: number,
  ) {
    this._state = state;
    this.currentStateTimestamp = now;
  }

  get state(): GroupState {
    return this._state;
  }

  is(state: GroupState): boolean {
    return this._state === state;
  }

  transitionTo(state: GroupState, now: number): void {
    if (!VALID_PREVIOUS_STATES[state].includes(this._state)) {
      throw new Error(`group ${this.groupId} cannot go from ${this._state} to ${state}`);
    }
    this._state = state;
    this.currentStateTimestamp = now;
  }

  /** Rebalances start only from these states; in PreparingRebalance one is already under way. */
  get canRebalance(): boolean {
    return this.is('Stable') || this.is('CompletingRebalance') || this.is('Empty');
  }

  get size(): number {
    return this.members.size;
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  get(memberId: string): MemberMetadata {
    const m = this.members.get(memberId);
    if (m === undefined) throw new Error(`member ${memberId} is not in group ${this.groupId}`);
    return m;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  isPendingMember(memberId: string): boolean {
    return this.pendingMembers.has(memberId);
  }

  /** The largest rebalance timeout of the members: how long a rebalance waits for them to rejoin. */
  get rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  get hasAllMembersJoined(): boolean {
    for (const m of this.members.values()) if (!m.isAwaitingJoin) return false;
    return this.pendingMembers.size === 0;
  }

  currentStaticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId);
  }

  /** The instance id is held by another member id: the caller is a zombie of that instance. */
  isStaticMemberFenced(memberId: string, groupInstanceId: string | null): boolean {
    if (groupInstanceId === null) return false;
    const current = this.staticMembers.get(groupInstanceId);
    return current !== undefined && current !== memberId;
  }

  add(member: MemberMetadata, onJoin: ((result: JoinGroupResult) => void) | null): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
    this.countProtocols(member.protocols, 1);
    member.awaitingJoin = onJoin;
    this.pendingMembers.delete(member.memberId);
  }

  remove(memberId: string): MemberMetadata | undefined {
    const member = this.members.get(memberId);
    if (member === undefined) return undefined;
    this.members.delete(memberId);
    this.countProtocols(member.protocols, -1);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) {
      this.staticMembers.delete(member.groupInstanceId);
    }
    this.pendingSyncMembers.delete(memberId);
    if (this.isLeader(memberId)) {
      // The next member to rejoin leads; until then any member will do.
      this.leaderId = this.members.keys().next().value ?? null;
    }
    return member;
  }

  updateMember(
    member: MemberMetadata,
    protocols: readonly Protocol[],
    rebalanceTimeoutMs: number,
    sessionTimeoutMs: number,
    onJoin: ((result: JoinGroupResult) => void) | null,
  ): void {
    this.countProtocols(member.protocols, -1);
    this.countProtocols(protocols, 1);
    member.protocols = protocols;
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    member.awaitingJoin = onJoin;
  }

  /**
   * Gives a static member's place to its new member id (KIP-345). A request still waiting
   * under the old id is answered FENCED_INSTANCE_ID by the caller.
   */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): MemberMetadata {
    const member = this.get(oldMemberId);
    this.members.delete(oldMemberId);
    member.memberId = newMemberId;
    this.members.set(newMemberId, member);
    if (this.isLeader(oldMemberId)) this.leaderId = newMemberId;
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    this.staticMembers.set(groupInstanceId, newMemberId);
    return member;
  }

  private countProtocols(protocols: readonly Protocol[], delta: number): void {
    for (const p of protocols) {
      const n = (this.supportedProtocols.get(p.name) ?? 0) + delta;
      if (n === 0) this.supportedProtocols.delete(p.name);
      else this.supportedProtocols.set(p.name, n);
    }
  }

  /** Protocols every member supports. */
  private candidateProtocols(): Set<string> {
    const n = this.members.size;
    return new Set([...this.supportedProtocols].filter(([, count]) => count === n).map(([name]) => name));
  }

  /** Whether a member with this protocol type and these protocols may join. */
  supportsProtocols(protocolType: string, protocols: readonly Protocol[]): boolean {
    if (this.is('Empty')) return protocolType.length > 0 && protocols.length > 0;
    if (this.protocolType !== protocolType) return false;
    const candidates = this.candidateProtocols();
    return protocols.some((p) => candidates.has(p.name));
  }

  /**
   * The protocol of the next generation: each member votes for its first choice among the
   * protocols all members support; the most votes win, a tie goes to the protocol named first
   * by the earliest member.
   */
  selectProtocol(): string {
    if (this.members.size === 0) throw new Error(`group ${this.groupId} has no members to choose a protocol`);
    const candidates = this.candidateProtocols();
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const choice = m.vote(candidates);
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    let best = '';
    let bestVotes = -1;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    return best;
  }

  /** If the leader has not rejoined, a member that has becomes leader. False when no member has rejoined. */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId !== null) {
      const leader = this.members.get(this.leaderId);
      if (leader?.isAwaitingJoin) return true;
    }
    for (const m of this.members.values()) {
      if (m.isAwaitingJoin) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  /** Opens the next generation: CompletingRebalance with the chosen protocol, or Empty without members. */
  initNextGeneration(now: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.transitionTo('CompletingRebalance', now);
    } else {
      this.protocolName = null;
      this.transitionTo('Empty', now);
    }
    this.subscribedTopics = this.computeSubscribedTopics();
    this.pendingSyncMembers.clear();
  }

  /** Each member's metadata for the chosen protocol, as the leader receives it. */
  currentMemberMetadata(): { memberId: string; groupInstanceId: string | null; metadata: Buffer }[] {
    const protocol = this.protocolName;
    if (protocol === null) throw new Error(`group ${this.groupId} has no protocol`);
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadata(protocol),
    }));
  }

  computeSubscribedTopics(): ReadonlySet<string> | null {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE) return null;
    if (this.members.size === 0) return new Set();
    const protocol = this.protocolName;
    if (protocol === null) return null;
    const topics = new Set<string>();
    for (const m of this.members.values()) {
      const subscribed = subscribedTopicsOf(m.metadata(protocol));
      if (subscribed === null) return null;
      for (const t of subscribed) topics.add(t);
    }
    return topics;
  }

  /** When the subscriptions are unknown, every topic counts as subscribed. */
  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics === null || this.subscribedTopics.has(topic);
  }

  get isConsumerGroup(): boolean {
    return this.protocolType === CONSUMER_PROTOCOL_TYPE;
  }

  offset(topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(topicPartitionKey(topic, partition))?.value;
  }

  /** Whether the group has offsets, committed or waiting for their transaction to end. */
  get hasOffsets(): boolean {
    return this.offsets.size > 0 || this.pendingTransactionalOffsets.size > 0;
  }

  /** A producer's transaction commits offsets for the group, pending until it ends. */
  addPendingTransactionalOffsets(producerId: number, offsets: readonly GroupOffset[]): void {
    let pending = this.pendingTransactionalOffsets.get(producerId);
    if (pending === undefined) {
      pending = new Map();
      this.pendingTransactionalOffsets.set(producerId, pending);
    }
    for (const o of offsets) pending.set(topicPartitionKey(o.topic, o.partition), o);
  }

  /**
   * The producer's transaction ended: on commit its offsets become the group's, except where a
   * later commit (by its record's place in the log) already replaced them; on abort they go.
   */
  completePendingTransactionalOffsets(producerId: number, committed: boolean): void {
    const pending = this.pendingTransactionalOffsets.get(producerId);
    if (pending === undefined) return;
    this.pendingTransactionalOffsets.delete(producerId);
    if (!committed) return;
    for (const [key, o] of pending) {
      const current = this.offsets.get(key);
      if (current === undefined || current.appendedAt < o.appendedAt) this.offsets.set(key, o);
    }
  }

  /** Whether an offset of the partition waits for its transaction (OffsetFetch's requireStable). */
  hasPendingOffsetCommit(topic: string, partition: number): boolean {
    const key = topicPartitionKey(topic, partition);
    for (const pending of this.pendingTransactionalOffsets.values()) if (pending.has(key)) return true;
    return false;
  }

  /**
   * Offsets past their retention (Kafka 2.1+): in an empty group, counted from when it became
   * empty; in a stable consumer group, for topics it no longer subscribes to, from their
   * commit; in a group without protocol (offsets only), from their commit. An offset
   * committed with its own retention (OffsetCommit v2-v4) expires at its own time.
   */
  expiredOffsets(now: number, retentionMs: number): { topic: string; partition: number }[] {
    let base: ((o: CommittedOffset) => number) | null = null;
    let subscribed: ReadonlySet<string> = new Set();
    if (this.protocolType !== null && this.is('Empty')) {
      const since = this.currentStateTimestamp;
      base = (o) => (since >= 0 ? since : o.commitTimestamp);
    } else if (this.isConsumerGroup && this.subscribedTopics !== null && this.is('Stable')) {
      base = (o) => o.commitTimestamp;
      subscribed = this.subscribedTopics;
    } else if (this.protocolType === null) {
      base = (o) => o.commitTimestamp;
    }
    if (base === null) return [];
    const expired: { topic: string; partition: number }[] = [];
    for (const { topic, partition, value } of this.offsets.values()) {
      if (subscribed.has(topic)) continue;
      const due =
        value.expireTimestamp !== null ? now >= value.expireTimestamp : now - base(value) >= retentionMs;
      if (due) expired.push({ topic, partition });
    }
    return expired;
  }
}

import { randomUUID } from 'node:crypto';
import { ErrorCode, errorCodeOf } from '@tributary/protocol';
import type { BrokerLogger } from '../broker-context';
import {
  ConsumerGroup,
  EMPTY,
  joinError,
  MemberMetadata,
  syncError,
  topicPartitionKey,
  type CommittedOffset,
  type GroupState,
  type JoinGroupResult,
  type Protocol,
  type SyncGroupResult,
} from './group';
import type { GroupConfig } from './group-config';
import type { GroupMetadataValue } from './group-records';
import { OFFSETS_TOPIC, type GroupStore, type StoredOffset } from './group-store';

/** A JoinGroup waiting for a rebalance that never completes is answered after this long (Kafka's value). */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;

export interface JoinGroupParams {
  readonly groupId: string;
  /** "" for a member joining for the first time. */
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly protocolType: string;
  readonly protocols: readonly Protocol[];
  /** JoinGroup v4+ without an instance id: a new member first gets its id with MEMBER_ID_REQUIRED. */
  readonly requireKnownMemberId: boolean;
  /** JoinGroup v9+ (KIP-814): a static leader rejoining a stable group is told to skip the assignment. */
  readonly supportSkippingAssignment: boolean;
  readonly reason?: string | null;
}

export interface SyncGroupParams {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignments: readonly { memberId: string; assignment: Buffer }[];
}

export interface MemberIdentity {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

export interface OffsetToCommit {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string;
  /** -1: now (only OffsetCommit v1 sets it). */
  readonly commitTimestamp: number;
}

export interface CommitParams {
  readonly groupId: string;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly generationId: number;
  /** -1: the broker's offsets.retention.minutes (OffsetCommit v2-v4 may set their own). */
  readonly retentionTimeMs: number;
  readonly offsets: readonly OffsetToCommit[];
}

/** TxnOffsetCommit: a transactional producer commits for a group (KIP-447: the member's generation, when given). */
export interface TxnCommitParams {
  readonly groupId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly generationId: number;
  readonly offsets: readonly OffsetToCommit[];
}

/**
 * A commit's outcome. Accepted offsets are appended but not yet visible: `complete()` makes
 * them the group's committed offsets once the append is durable (the ISR has it), as Kafka
 * updates its offset cache only when the append completes. Until then OffsetFetch answers the
 * previous offsets, so no reader sees a commit that a failover may still take back.
 */
export interface OffsetCommitResult {
  readonly errorCode: number;
  complete(): void;
}

export interface FetchedOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly errorCode: number;
}

export interface GroupOverview {
  readonly groupId: string;
  readonly protocolType: string;
  readonly state: GroupState;
}

export interface GroupDescription {
  readonly errorCode: number;
  readonly groupId: string;
  readonly state: GroupState;
  readonly protocolType: string;
  /** The chosen protocol, for a stable group; "" otherwise. */
  readonly protocol: string;
  readonly members: readonly {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    metadata: Buffer;
    assignment: Buffer;
  }[];
}

/** An append to __consumer_offsets failed: the error a client should see (Kafka's mapping). */
function storeErrorCode(err: unknown, forOffsets: boolean): number {
  const code = errorCodeOf(err);
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return forOffsets ? ErrorCode.INVALID_COMMIT_OFFSET_SIZE : ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return code;
  }
}

export interface GroupCoordinatorOptions {
  readonly config: GroupConfig;
  readonly store: GroupStore;
  readonly logger: BrokerLogger;
}

/**
 * Kafka's classic group coordinator (the GroupCoordinator of Kafka 2.x/3.x) for the groups
 * of this broker: JoinGroup/SyncGroup rebalances with session and rebalance timeouts, the
 * initial rebalance delay, static membership (KIP-345), and committed offsets with their
 * retention. Everything runs on the event loop, so no two operations interleave; the
 * requests that wait (JoinGroup, SyncGroup) are promises resolved by a later event.
 */
export class GroupCoordinator {
  private readonly groups = new Map<string, ConsumerGroup>();
  readonly config: GroupConfig;
  private readonly store: GroupStore;
  private readonly logger: BrokerLogger;
  private active = false;
  /** The partitions of __consumer_offsets whose groups this broker coordinates; null: all (a lone broker). */
  private owned: Set<number> | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  /** Groups with offsets pending in each producer's transaction (Kafka's openGroupsForProducer). */
  private readonly openGroupsForProducer = new Map<number, Set<string>>();

  constructor(options: GroupCoordinatorOptions) {
    this.config = options.config;
    this.store = options.store;
    this.logger = options.logger;
  }

  /**
   * A timer's work: a background event must never throw out of the event loop (that would
   * stop the broker); a failure is logged and the group waits for its clients' next request.
   */
  private onTimer(what: string, task: () => void): () => void {
    return () => {
      try {
        task();
      } catch (err) {
        this.logger.error(`group coordinator: ${what} failed: ${(err as Error).stack ?? String(err)}`);
      }
    };
  }

  /**
   * Starts the offset expiry timer and, on a lone broker (ownAllPartitions), reloads every
   * group from __consumer_offsets. In a replicated cluster groups are loaded partition by
   * partition as this broker becomes the leader of __consumer_offsets partitions (onElection).
   */
  startup(options: { ownAllPartitions?: boolean } = {}): void {
    const ownAll = options.ownAllPartitions ?? true;
    this.owned = ownAll ? null : new Set();
    if (ownAll) this.loadGroups(undefined);
    this.active = true;
    this.expiryTimer = setInterval(
      this.onTimer('removing expired offsets', () => this.cleanupExpiredOffsets(Date.now())),
      this.config.offsetsRetentionCheckIntervalMs,
    );
    this.expiryTimer.unref();
  }

  private loadGroups(partitions: readonly number[] | undefined): void {
    const now = Date.now();
    const loaded = this.store.load(partitions);
    for (const [groupId, stored] of loaded) {
      const previous = this.groups.get(groupId);
      if (previous !== undefined) this.unloadGroup(previous);
      const group = this.groupFromStored(groupId, stored.metadata, now);
      for (const [k, o] of stored.offsets) group.offsets.set(k, o);
      for (const [producerId, offsets] of stored.pendingTransactionalOffsets) {
        group.addPendingTransactionalOffsets(producerId, [...offsets.values()]);
        this.openGroupFor(producerId, groupId);
      }
      this.groups.set(groupId, group);
      for (const member of group.members.values()) this.scheduleHeartbeat(group, member);
    }
    const where = partitions === undefined ? '' : ` partition ${partitions.join(', ')} of`;
    if (loaded.size > 0) this.logger.log(`loaded ${loaded.size} group(s) from${where} __consumer_offsets`);
  }

  /** This broker now leads a partition of __consumer_offsets: it coordinates the partition's groups (Kafka's onElection). */
  onElection(partition: number): void {
    if (this.owned === null || this.owned.has(partition)) return;
    try {
      this.loadGroups([partition]);
      this.owned.add(partition);
    } catch (err) {
      this.logger.error(
        `loading groups of __consumer_offsets-${partition} failed: ${(err as Error).stack ?? err}`,
      );
    }
  }

  /** This broker no longer leads the partition: its groups go, their waiting members answered NOT_COORDINATOR. */
  onResignation(partition: number): void {
    if (this.owned === null || !this.owned.delete(partition)) return;
    let unloaded = 0;
    for (const group of [...this.groups.values()]) {
      if (this.store.partitionFor(group.groupId) !== partition) continue;
      this.unloadGroup(group);
      this.groups.delete(group.groupId);
      unloaded++;
    }
    if (unloaded > 0) this.logger.log(`unloaded ${unloaded} group(s) of __consumer_offsets-${partition}`);
  }

  /** Whether this broker coordinates the group: it leads the group's partition of __consumer_offsets. */
  isCoordinatorFor(groupId: string): boolean {
    return this.owned === null || this.owned.has(this.store.partitionFor(groupId));
  }

  private unloadGroup(group: ConsumerGroup): void {
    for (const member of group.members.values()) {
      this.invokeJoin(member, joinError(member.memberId, ErrorCode.NOT_COORDINATOR));
      this.invokeSync(member, syncError(ErrorCode.NOT_COORDINATOR));
    }
    this.clearTimers(group);
  }

  /** Stops: waiting requests are answered NOT_COORDINATOR so that clients look for the coordinator again. */
  shutdown(): void {
    this.active = false;
    if (this.expiryTimer !== null) clearInterval(this.expiryTimer);
    this.expiryTimer = null;
    for (const group of this.groups.values()) this.unloadGroup(group);
    this.groups.clear();
  }

  private groupFromStored(groupId: string, v: GroupMetadataValue | null, now: number): ConsumerGroup {
    const hasMembers = v !== null && v.members.length > 0 && v.protocol !== null;
    const group = new ConsumerGroup(groupId, hasMembers ? 'Stable' : 'Empty', now);
    if (v === null) return group;
    group.generationId = v.generation;
    group.protocolType = v.protocolType === '' ? null : v.protocolType;
    group.currentStateTimestamp = v.currentStateTimestamp;
    if (!hasMembers) return group;
    group.protocolName = v.protocol;
    for (const m of v.members) {
      const member = new MemberMetadata(
        m.memberId,
        m.groupInstanceId,
        m.clientId,
        m.clientHost,
        m.rebalanceTimeoutMs,
        m.sessionTimeoutMs,
        v.protocolType,
        [{ name: v.protocol, metadata: m.subscription }],
      );
      member.assignment = m.assignment;
      group.add(member, null);
    }
    group.protocolType = v.protocolType;
    if (v.leader !== null && group.has(v.leader)) group.leaderId = v.leader;
    group.subscribedTopics = group.computeSubscribedTopics();
    return group;
  }

  // ---- checks -----------------------------------------------------------------------

  /**
   * COORDINATOR_NOT_AVAILABLE when stopped, INVALID_GROUP_ID for an empty id where one is
   * needed, NOT_COORDINATOR for a group of a partition another broker leads.
   */
  private validateGroupStatus(groupId: string, allowEmptyId: boolean): number {
    if (!this.active) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (!allowEmptyId && groupId.length === 0) return ErrorCode.INVALID_GROUP_ID;
    if (!this.isCoordinatorFor(groupId)) return ErrorCode.NOT_COORDINATOR;
    return ErrorCode.NONE;
  }

  get isActive(): boolean {
    return this.active;
  }

  group(groupId: string): ConsumerGroup | undefined {
    return this.groups.get(groupId);
  }

  // ---- JoinGroup ----------------------------------------------------------------------

  joinGroup(params: JoinGroupParams): Promise<JoinGroupResult> {
    return new Promise((resolve) => {
      try {
        this.handleJoinGroup(params, resolve);
      } catch (err) {
        this.logger.error(
          `JoinGroup for group ${params.groupId} failed: ${(err as Error).stack ?? String(err)}`,
        );
        resolve(joinError(params.memberId, ErrorCode.UNKNOWN_SERVER_ERROR));
      }
    });
  }

  private handleJoinGroup(p: JoinGroupParams, respond: (r: JoinGroupResult) => void): void {
    const error = this.validateGroupStatus(p.groupId, false);
    if (error !== ErrorCode.NONE) return respond(joinError(p.memberId, error));
    if (
      p.sessionTimeoutMs < this.config.minSessionTimeoutMs ||
      p.sessionTimeoutMs > this.config.maxSessionTimeoutMs
    ) {
      return respond(joinError(p.memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
    }
    const isUnknownMember = p.memberId === '';
    let group = this.groups.get(p.groupId);
    if (group === undefined) {
      if (!isUnknownMember) return respond(joinError(p.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
      group = new ConsumerGroup(p.groupId, 'Empty', Date.now());
      this.groups.set(p.groupId, group);
    }
    if (isUnknownMember) this.doNewMemberJoin(group, p, respond);
    else this.doCurrentMemberJoin(group, p, respond);
    if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
    this.dropIfUnused(group);
  }

  /** A group made for a join that failed at once holds nothing: forget it rather than list it. */
  private dropIfUnused(group: ConsumerGroup): void {
    if (
      group.is('Empty') &&
      group.generationId === 0 &&
      group.size === 0 &&
      group.pendingMembers.size === 0 &&
      !group.hasOffsets &&
      this.groups.get(group.groupId) === group
    ) {
      this.groups.delete(group.groupId);
    }
  }

  private doNewMemberJoin(
    group: ConsumerGroup,
    p: JoinGroupParams,
    respond: (r: JoinGroupResult) => void,
  ): void {
    if (group.is('Dead')) return respond(joinError('', ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(p.protocolType, p.protocols)) {
      return respond(joinError('', ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const newMemberId = `${p.clientId}-${randomUUID()}`;
    if (!this.acceptJoiningMember(group, newMemberId)) {
      return respond(joinError('', ErrorCode.GROUP_MAX_SIZE_REACHED));
    }
    if (p.groupInstanceId !== null) {
      const oldMemberId = group.currentStaticMemberId(p.groupInstanceId);
      if (oldMemberId !== undefined) {
        this.logger.log(
          `static member ${p.groupInstanceId} of group ${group.groupId} rejoins: ${oldMemberId} is replaced by ${newMemberId}`,
        );
        return this.updateStaticMemberAndRebalance(group, oldMemberId, newMemberId, p, respond);
      }
      return this.addMemberAndRebalance(group, newMemberId, p, respond);
    }
    if (p.requireKnownMemberId) {
      // The member must come back with this id; until then it holds a place in the rebalance.
      const timer = setTimeout(
        this.onTimer('expiring a pending member', () => this.removePendingMember(group, newMemberId)),
        p.sessionTimeoutMs,
      );
      timer.unref();
      group.pendingMembers.set(newMemberId, timer);
      return respond(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
    }
    this.addMemberAndRebalance(group, newMemberId, p, respond);
  }

  private doCurrentMemberJoin(
    group: ConsumerGroup,
    p: JoinGroupParams,
    respond: (r: JoinGroupResult) => void,
  ): void {
    const memberId = p.memberId;
    if (group.is('Dead')) return respond(joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(p.protocolType, p.protocols)) {
      return respond(joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    if (group.isPendingMember(memberId)) {
      if (group.isStaticMemberFenced(memberId, p.groupInstanceId)) {
        return respond(joinError(memberId, ErrorCode.FENCED_INSTANCE_ID));
      }
      clearTimeout(group.pendingMembers.get(memberId));
      return this.addMemberAndRebalance(group, memberId, p, respond);
    }
    if (group.isStaticMemberFenced(memberId, p.groupInstanceId)) {
      return respond(joinError(memberId, ErrorCode.FENCED_INSTANCE_ID));
    }
    const instanceUnknown =
      p.groupInstanceId !== null && group.currentStaticMemberId(p.groupInstanceId) === undefined;
    if (!group.has(memberId) || instanceUnknown)
      return respond(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    const member = group.get(memberId);
    switch (group.state) {
      case 'PreparingRebalance':
        return this.updateMemberAndRebalance(group, member, p, respond);
      case 'CompletingRebalance':
        // The same metadata again: it most likely missed the JoinGroup answer, so it gets it again.
        if (member.matches(p.protocols)) return respond(this.currentGenerationResult(group, member, true));
        return this.updateMemberAndRebalance(group, member, p, respond);
      case 'Stable':
        // A follower with nothing new goes on to SyncGroup; the leader or a changed member rebalances.
        if (group.isLeader(memberId) || !member.matches(p.protocols)) {
          return this.updateMemberAndRebalance(group, member, p, respond);
        }
        return respond(this.currentGenerationResult(group, member, false));
      default:
        return respond(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  private currentGenerationResult(
    group: ConsumerGroup,
    member: MemberMetadata,
    withMembers: boolean,
  ): JoinGroupResult {
    const isLeader = group.isLeader(member.memberId);
    return {
      errorCode: ErrorCode.NONE,
      memberId: member.memberId,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leaderId: group.leaderId ?? '',
      skipAssignment: false,
      members: withMembers && isLeader ? group.currentMemberMetadata() : [],
    };
  }

  /** Whether a new member may join under group.max.size (a rebalance counts the members that rejoined). */
  private acceptJoiningMember(group: ConsumerGroup, memberId: string): boolean {
    const max = this.config.maxSize;
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return true;
      case 'PreparingRebalance': {
        if (group.members.get(memberId)?.isAwaitingJoin) return true;
        let awaiting = group.pendingMembers.size;
        for (const m of group.members.values()) if (m.isAwaitingJoin) awaiting++;
        return awaiting < max;
      }
      default:
        return group.has(memberId) || group.size + group.pendingMembers.size < max;
    }
  }

  private addMemberAndRebalance(
    group: ConsumerGroup,
    memberId: string,
    p: JoinGroupParams,
    respond: (r: JoinGroupResult) => void,
  ): void {
    const member = new MemberMetadata(
      memberId,
      p.groupInstanceId,
      p.clientId,
      p.clientHost,
      p.rebalanceTimeoutMs,
      p.sessionTimeoutMs,
      p.protocolType,
      p.protocols,
    );
    member.isNew = true;
    // A member arriving during the first rebalance's initial delay extends the delay.
    if (group.is('PreparingRebalance') && group.generationId === 0) group.newMemberAdded = true;
    group.add(member, respond);
    // A new member cannot heartbeat before it has joined; a JoinGroup stuck that long is dropped.
    this.scheduleHeartbeat(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS);
    this.maybePrepareRebalance(group, `adding new member ${memberId}${this.reasonSuffix(p)}`);
  }

  private updateMemberAndRebalance(
    group: ConsumerGroup,
    member: MemberMetadata,
    p: JoinGroupParams,
    respond: (r: JoinGroupResult) => void,
  ): void {
    group.updateMember(member, p.protocols, p.rebalanceTimeoutMs, p.sessionTimeoutMs, respond);
    this.maybePrepareRebalance(
      group,
      `updating metadata of member ${member.memberId}${this.reasonSuffix(p)}`,
    );
  }

  private reasonSuffix(p: JoinGroupParams): string {
    return p.reason ? ` (client reason: ${p.reason})` : '';
  }

  /**
   * A static member rejoined under a new member id (KIP-345): it takes over the old id's place
   * and assignment. In a stable group whose chosen protocol stays the same there is no
   * rebalance; the member gets the current generation and SyncGroup gives it its assignment.
   */
  private updateStaticMemberAndRebalance(
    group: ConsumerGroup,
    oldMemberId: string,
    newMemberId: string,
    p: JoinGroupParams,
    respond: (r: JoinGroupResult) => void,
  ): void {
    const instanceId = p.groupInstanceId as string;
    const currentLeader = group.leaderId ?? '';
    const member = group.get(oldMemberId);
    // Whatever still waits under the old id is a zombie of this instance.
    this.invokeJoin(member, joinError(oldMemberId, ErrorCode.FENCED_INSTANCE_ID));
    this.invokeSync(member, syncError(ErrorCode.FENCED_INSTANCE_ID));
    group.replaceStaticMember(instanceId, oldMemberId, newMemberId);
    this.scheduleHeartbeat(group, member);
    const old = {
      protocols: member.protocols,
      rebalanceTimeoutMs: member.rebalanceTimeoutMs,
      sessionTimeoutMs: member.sessionTimeoutMs,
    };
    group.updateMember(member, p.protocols, p.rebalanceTimeoutMs, p.sessionTimeoutMs, respond);
    switch (group.state) {
      case 'Stable': {
        if (group.protocolName !== group.selectProtocol()) {
          this.maybePrepareRebalance(
            group,
            `static member ${instanceId} rejoined with protocols that change the group's protocol`,
          );
          return;
        }
        try {
          this.storeGroup(group, this.currentAssignment(group));
        } catch (err) {
          // Put the old member back as it was.
          group.updateMember(member, old.protocols, old.rebalanceTimeoutMs, old.sessionTimeoutMs, null);
          group.replaceStaticMember(instanceId, newMemberId, oldMemberId);
          this.scheduleHeartbeat(group, member);
          respond(joinError('', storeErrorCode(err, false)));
          return;
        }
        const isLeader = group.isLeader(newMemberId);
        const skip = p.supportSkippingAssignment && isLeader;
        this.invokeJoin(member, {
          errorCode: ErrorCode.NONE,
          memberId: newMemberId,
          generationId: group.generationId,
          protocolType: group.protocolType,
          protocolName: group.protocolName,
          // Older clients are given the old leader id so that a rejoining leader does not
          // compute an assignment that a stable group would never send out.
          leaderId: p.supportSkippingAssignment ? (group.leaderId ?? '') : currentLeader,
          skipAssignment: skip,
          members: skip ? group.currentMemberMetadata() : [],
        });
        return;
      }
      case 'CompletingRebalance':
        // The leader may be assigning to the old id: rebalance so that the new id gets its share.
        this.prepareRebalance(group, `static member ${instanceId} rejoined during CompletingRebalance`);
        return;
      default:
        // PreparingRebalance: the member simply takes part in the rebalance under way.
        return;
    }
  }

  private removePendingMember(group: ConsumerGroup, memberId: string): void {
    const timer = group.pendingMembers.get(memberId);
    if (timer === undefined) return;
    clearTimeout(timer);
    group.pendingMembers.delete(memberId);
    if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
    this.dropIfUnused(group);
  }

  // ---- rebalance ------------------------------------------------------------------------

  private maybePrepareRebalance(group: ConsumerGroup, reason: string): void {
    if (group.canRebalance) this.prepareRebalance(group, reason);
  }

  private prepareRebalance(group: ConsumerGroup, reason: string): void {
    // Members waiting for an assignment of the generation being replaced rejoin instead.
    if (group.is('CompletingRebalance'))
      this.resetAndPropagateAssignmentError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    this.clearSyncTimer(group);
    const wasEmpty = group.is('Empty');
    this.logger.log(
      `preparing to rebalance group ${group.groupId} in state ${group.state} with old generation ${group.generationId}: ${reason}`,
    );
    group.transitionTo('PreparingRebalance', Date.now());
    if (wasEmpty) {
      const delay = this.config.initialRebalanceDelayMs;
      this.scheduleInitialJoin(group, delay, Math.max(group.rebalanceTimeoutMs - delay, 0));
    } else {
      this.scheduleJoin(group, group.rebalanceTimeoutMs);
      this.tryCompleteJoin(group);
    }
  }

  /**
   * The first rebalance of an empty group waits group.initial.rebalance.delay.ms, and again
   * (up to the rebalance timeout in all) while new members keep arriving, so that a group
   * starting up settles in one generation rather than one per member.
   */
  private scheduleInitialJoin(group: ConsumerGroup, delayMs: number, remainingMs: number): void {
    this.clearJoinTimer(group);
    group.initialDelayPending = true;
    group.joinTimer = setTimeout(
      this.onTimer(`rebalancing group ${group.groupId}`, () => {
        group.joinTimer = null;
        if (!group.is('PreparingRebalance')) return;
        if (group.newMemberAdded && remainingMs !== 0) {
          group.newMemberAdded = false;
          const delay = Math.min(this.config.initialRebalanceDelayMs, remainingMs);
          this.scheduleInitialJoin(group, delay, Math.max(remainingMs - delayMs, 0));
        } else {
          group.initialDelayPending = false;
          this.completeJoin(group);
        }
      }),
      delayMs,
    );
    group.joinTimer.unref();
  }

  /** The rebalance completes when every member has rejoined, or at the rebalance timeout without the rest. */
  private scheduleJoin(group: ConsumerGroup, timeoutMs: number): void {
    this.clearJoinTimer(group);
    group.initialDelayPending = false;
    group.joinTimer = setTimeout(
      this.onTimer(`rebalancing group ${group.groupId}`, () => {
        group.joinTimer = null;
        if (group.is('PreparingRebalance')) this.completeJoin(group);
      }),
      timeoutMs,
    );
    group.joinTimer.unref();
  }

  private tryCompleteJoin(group: ConsumerGroup): void {
    if (group.is('PreparingRebalance') && !group.initialDelayPending && group.hasAllMembersJoined) {
      this.clearJoinTimer(group);
      this.completeJoin(group);
    }
  }

  private completeJoin(group: ConsumerGroup): void {
    // Dynamic members that did not rejoin in time are out; static ones stay until their session expires.
    for (const member of [...group.members.values()]) {
      if (!member.isAwaitingJoin && !member.isStatic) {
        this.logger.log(
          `member ${member.memberId} of group ${group.groupId} did not rejoin in time: removed`,
        );
        this.cancelHeartbeat(member);
        group.remove(member.memberId);
      }
    }
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Only static members that have not rejoined are left: wait for them or their sessions.
      this.logger.warn(`group ${group.groupId} could not complete its rebalance: no member rejoined`);
      this.scheduleJoin(group, group.rebalanceTimeoutMs);
      return;
    }
    const now = Date.now();
    group.initNextGeneration(now);
    if (group.is('Empty')) {
      this.logger.log(`group ${group.groupId} with generation ${group.generationId} is now empty`);
      try {
        this.storeGroup(group, new Map());
      } catch (err) {
        this.logger.warn(`could not store empty group ${group.groupId}: ${(err as Error).message}`);
      }
      return;
    }
    this.logger.log(
      `stabilized group ${group.groupId} generation ${group.generationId} (protocol ${group.protocolName}) with ${group.size} member(s)`,
    );
    for (const member of group.members.values()) {
      this.invokeJoin(member, this.currentGenerationResult(group, member, true));
      this.scheduleHeartbeat(group, member);
      member.isNew = false;
      group.pendingSyncMembers.add(member.memberId);
    }
    this.schedulePendingSync(group);
  }

  /** Members of the new generation that do not send SyncGroup within the rebalance timeout are removed. */
  private schedulePendingSync(group: ConsumerGroup): void {
    this.clearSyncTimer(group);
    const generationId = group.generationId;
    group.syncTimer = setTimeout(
      this.onTimer(`expiring SyncGroup of group ${group.groupId}`, () => {
        group.syncTimer = null;
        if (generationId !== group.generationId) return;
        if (!group.is('CompletingRebalance') && !group.is('Stable')) return;
        if (group.pendingSyncMembers.size === 0) return;
        const missing = [...group.pendingSyncMembers];
        for (const memberId of missing) {
          const member = group.remove(memberId);
          if (member !== undefined) this.cancelHeartbeat(member);
        }
        this.prepareRebalance(group, `members ${missing.join(', ')} did not send SyncGroup in time`);
      }),
      group.rebalanceTimeoutMs,
    );
    group.syncTimer.unref();
  }

  // ---- SyncGroup ----------------------------------------------------------------------

  syncGroup(params: SyncGroupParams): Promise<SyncGroupResult> {
    return new Promise((resolve) => {
      try {
        this.handleSyncGroup(params, resolve);
      } catch (err) {
        this.logger.error(
          `SyncGroup for group ${params.groupId} failed: ${(err as Error).stack ?? String(err)}`,
        );
        resolve(syncError(ErrorCode.UNKNOWN_SERVER_ERROR));
      }
    });
  }

  private handleSyncGroup(p: SyncGroupParams, respond: (r: SyncGroupResult) => void): void {
    const error = this.validateGroupStatus(p.groupId, false);
    if (error !== ErrorCode.NONE) return respond(syncError(error));
    const group = this.groups.get(p.groupId);
    if (group === undefined) return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (group.is('Dead')) return respond(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (group.isStaticMemberFenced(p.memberId, p.groupInstanceId))
      return respond(syncError(ErrorCode.FENCED_INSTANCE_ID));
    if (!group.has(p.memberId)) return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (p.generationId !== group.generationId) return respond(syncError(ErrorCode.ILLEGAL_GENERATION));
    if (
      (p.protocolType !== null && p.protocolType !== group.protocolType) ||
      (p.protocolName !== null && p.protocolName !== group.protocolName)
    ) {
      return respond(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const member = group.get(p.memberId);
    switch (group.state) {
      case 'PreparingRebalance':
        return respond(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case 'CompletingRebalance': {
        member.awaitingSync = respond;
        this.removePendingSyncMember(group, p.memberId);
        if (!group.isLeader(p.memberId)) return;
        // The leader's assignment: members it left out get an empty one, unknown ids are ignored.
        const given = new Map(p.assignments.map((a) => [a.memberId, a.assignment]));
        const assignment = new Map<string, Buffer>();
        for (const id of group.members.keys()) assignment.set(id, Buffer.from(given.get(id) ?? EMPTY));
        try {
          this.storeGroup(group, assignment);
        } catch (err) {
          this.resetAndPropagateAssignmentError(group, storeErrorCode(err, false));
          this.maybePrepareRebalance(group, `storing the assignment failed: ${(err as Error).message}`);
          return;
        }
        this.setAndPropagateAssignment(group, assignment);
        group.transitionTo('Stable', Date.now());
        return;
      }
      case 'Stable':
        this.removePendingSyncMember(group, p.memberId);
        respond({
          errorCode: ErrorCode.NONE,
          protocolType: group.protocolType,
          protocolName: group.protocolName,
          assignment: member.assignment,
        });
        this.scheduleHeartbeat(group, member);
        return;
      default:
        return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  private removePendingSyncMember(group: ConsumerGroup, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    if (group.pendingSyncMembers.size === 0) this.clearSyncTimer(group);
  }

  private setAndPropagateAssignment(group: ConsumerGroup, assignment: ReadonlyMap<string, Buffer>): void {
    for (const member of group.members.values()) {
      member.assignment = assignment.get(member.memberId) ?? EMPTY;
      const sent = this.invokeSync(member, {
        errorCode: ErrorCode.NONE,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        assignment: member.assignment,
      });
      if (sent) this.scheduleHeartbeat(group, member);
    }
  }

  private resetAndPropagateAssignmentError(group: ConsumerGroup, errorCode: number): void {
    for (const member of group.members.values()) {
      member.assignment = EMPTY;
      if (this.invokeSync(member, syncError(errorCode))) this.scheduleHeartbeat(group, member);
    }
  }

  private currentAssignment(group: ConsumerGroup): Map<string, Buffer> {
    return new Map([...group.members.values()].map((m) => [m.memberId, m.assignment]));
  }

  // ---- Heartbeat and LeaveGroup -----------------------------------------------------------

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    const error = this.validateGroupStatus(groupId, false);
    if (error !== ErrorCode.NONE) return error;
    const group = this.groups.get(groupId);
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (group.isStaticMemberFenced(memberId, groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    if (!group.has(memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    switch (group.state) {
      case 'CompletingRebalance':
      case 'Stable':
        this.scheduleHeartbeat(group, group.get(memberId));
        return ErrorCode.NONE;
      case 'PreparingRebalance':
        this.scheduleHeartbeat(group, group.get(memberId));
        return ErrorCode.REBALANCE_IN_PROGRESS;
      default:
        return ErrorCode.UNKNOWN_MEMBER_ID;
    }
  }

  /**
   * Removes members (v3+ may name several, by member id or, administratively, by instance id
   * alone). The group-level error is for the whole request; each member has its own.
   */
  leaveGroup(
    groupId: string,
    members: readonly MemberIdentity[],
  ): {
    errorCode: number;
    members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
  } {
    const error = this.validateGroupStatus(groupId, false);
    if (error !== ErrorCode.NONE) return { errorCode: error, members: [] };
    const group = this.groups.get(groupId);
    const result = (m: MemberIdentity, errorCode: number) => ({ ...m, errorCode });
    if (group === undefined) {
      return {
        errorCode: ErrorCode.NONE,
        members: members.map((m) => result(m, ErrorCode.UNKNOWN_MEMBER_ID)),
      };
    }
    if (group.is('Dead')) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const out = members.map((m) => {
      if (m.memberId === '') {
        const current =
          m.groupInstanceId === null ? undefined : group.currentStaticMemberId(m.groupInstanceId);
        if (current === undefined) return result(m, ErrorCode.UNKNOWN_MEMBER_ID);
        this.removeMemberAndUpdateGroup(group, group.get(current), `instance ${m.groupInstanceId} left`);
        return result(m, ErrorCode.NONE);
      }
      if (group.isPendingMember(m.memberId)) {
        this.removePendingMember(group, m.memberId);
        return result(m, ErrorCode.NONE);
      }
      if (group.isStaticMemberFenced(m.memberId, m.groupInstanceId))
        return result(m, ErrorCode.FENCED_INSTANCE_ID);
      if (!group.has(m.memberId)) return result(m, ErrorCode.UNKNOWN_MEMBER_ID);
      this.removeMemberAndUpdateGroup(group, group.get(m.memberId), `member ${m.memberId} left the group`);
      return result(m, ErrorCode.NONE);
    });
    return { errorCode: ErrorCode.NONE, members: out };
  }

  private removeMemberAndUpdateGroup(group: ConsumerGroup, member: MemberMetadata, reason: string): void {
    // A request still waiting for this member is told to join again from scratch.
    this.invokeJoin(member, joinError('', ErrorCode.UNKNOWN_MEMBER_ID));
    this.invokeSync(member, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    this.cancelHeartbeat(member);
    group.remove(member.memberId);
    switch (group.state) {
      case 'Stable':
      case 'CompletingRebalance':
        this.maybePrepareRebalance(group, reason);
        return;
      case 'PreparingRebalance':
        this.tryCompleteJoin(group);
        return;
      default:
        return;
    }
  }

  /** Restarts the member's session timer (session.timeout.ms, or another timeout for a new member). */
  private scheduleHeartbeat(
    group: ConsumerGroup,
    member: MemberMetadata,
    timeoutMs = member.sessionTimeoutMs,
  ): void {
    this.cancelHeartbeat(member);
    member.heartbeatTimer = setTimeout(
      this.onTimer(`expiring member ${member.memberId}`, () => {
        member.heartbeatTimer = null;
        if (group.is('Dead') || group.members.get(member.memberId) !== member) return;
        // A member waiting in a JoinGroup or SyncGroup is alive; the rebalance bounds that wait.
        if (!member.isNew && (member.isAwaitingJoin || member.isAwaitingSync)) return;
        this.logger.log(
          `member ${member.memberId} of group ${group.groupId} has failed (session expired): removed`,
        );
        this.removeMemberAndUpdateGroup(group, member, `member ${member.memberId} expired`);
      }),
      timeoutMs,
    );
    member.heartbeatTimer.unref();
  }

  private cancelHeartbeat(member: MemberMetadata): void {
    if (member.heartbeatTimer !== null) clearTimeout(member.heartbeatTimer);
    member.heartbeatTimer = null;
  }

  private invokeJoin(member: MemberMetadata, result: JoinGroupResult): boolean {
    const respond = member.awaitingJoin;
    if (respond === null) return false;
    member.awaitingJoin = null;
    respond(result);
    return true;
  }

  private invokeSync(member: MemberMetadata, result: SyncGroupResult): boolean {
    const respond = member.awaitingSync;
    if (respond === null) return false;
    member.awaitingSync = null;
    respond(result);
    return true;
  }

  private clearJoinTimer(group: ConsumerGroup): void {
    if (group.joinTimer !== null) clearTimeout(group.joinTimer);
    group.joinTimer = null;
  }

  private clearSyncTimer(group: ConsumerGroup): void {
    if (group.syncTimer !== null) clearTimeout(group.syncTimer);
    group.syncTimer = null;
  }

  private clearTimers(group: ConsumerGroup): void {
    this.clearJoinTimer(group);
    this.clearSyncTimer(group);
    for (const timer of group.pendingMembers.values()) clearTimeout(timer);
    group.pendingMembers.clear();
    for (const member of group.members.values()) this.cancelHeartbeat(member);
  }

  private storeGroup(group: ConsumerGroup, assignment: ReadonlyMap<string, Buffer>): void {
    const protocol = group.protocolName;
    this.store.storeGroup(
      group.groupId,
      {
        protocolType: group.protocolType ?? '',
        generation: group.generationId,
        protocol,
        leader: group.leaderId,
        currentStateTimestamp: group.currentStateTimestamp,
        members:
          protocol === null
            ? []
            : [...group.members.values()].map((m) => ({
                memberId: m.memberId,
                groupInstanceId: m.groupInstanceId,
                clientId: m.clientId,
                clientHost: m.clientHost,
                rebalanceTimeoutMs: m.rebalanceTimeoutMs,
                sessionTimeoutMs: m.sessionTimeoutMs,
                subscription: m.metadata(protocol),
                assignment: assignment.get(m.memberId) ?? EMPTY,
              })),
      },
      Date.now(),
    );
  }

  // ---- offsets ----------------------------------------------------------------------------

  /**
   * Commits offsets for a group: a member of the current generation, or anyone while the
   * group is empty (generation -1, no member id: consumers that manage partitions themselves).
   * One error for every partition given; the caller has checked topics and metadata sizes,
   * and calls `complete()` of an accepted commit once its append is durable.
   */
  commitOffsets(p: CommitParams): OffsetCommitResult {
    const refused = (errorCode: number): OffsetCommitResult => ({ errorCode, complete: () => undefined });
    const error = this.validateGroupStatus(p.groupId, true);
    if (error !== ErrorCode.NONE) return refused(error);
    let group = this.groups.get(p.groupId);
    if (group === undefined) {
      // Without group management the group exists only for its offsets; a generation from a
      // group this broker does not know is stale.
      if (p.generationId >= 0) return refused(ErrorCode.ILLEGAL_GENERATION);
      group = new ConsumerGroup(p.groupId, 'Empty', Date.now());
    }
    const code = this.admitCommit(group, p);
    if (code !== ErrorCode.NONE) return refused(code);
    const now = Date.now();
    const stored: StoredOffset[] = p.offsets.map((o) => ({
      topic: o.topic,
      partition: o.partition,
      value: {
        offset: o.offset,
        leaderEpoch: o.leaderEpoch,
        metadata: o.metadata,
        commitTimestamp: o.commitTimestamp === -1 ? now : o.commitTimestamp,
        expireTimestamp: p.retentionTimeMs === -1 ? null : now + p.retentionTimeMs,
      },
    }));
    let appendedAt: number[];
    try {
      appendedAt = this.store.storeOffsets(group.groupId, stored, now);
    } catch (err) {
      this.logger.warn(`committing offsets of group ${group.groupId} failed: ${(err as Error).message}`);
      return refused(storeErrorCode(err, true));
    }
    const committing = group;
    return {
      errorCode: ErrorCode.NONE,
      complete: () => {
        // The group may have been created for these offsets (no group management) or replaced.
        let current = this.groups.get(committing.groupId);
        if (current === undefined && committing.is('Empty')) {
          current = committing;
          this.groups.set(current.groupId, current);
        }
        if (current === undefined || current.is('Dead')) return;
        const target = current;
        stored.forEach((o, i) =>
          target.offsets.set(topicPartitionKey(o.topic, o.partition), { ...o, appendedAt: appendedAt[i] }),
        );
      },
    };
  }

  /** NONE when a commit may be taken now, else the error refusing it; a member's commit counts as its heartbeat. */
  private admitCommit(group: ConsumerGroup, p: CommitParams): number {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (p.generationId >= 0 || p.memberId !== '' || p.groupInstanceId !== null) {
      if (group.isStaticMemberFenced(p.memberId, p.groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
      if (!group.has(p.memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (p.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (!group.is('Empty')) {
      // Only members commit for a group that has them.
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    switch (group.state) {
      case 'CompletingRebalance':
        // The member has its new generation but not its assignment yet.
        return ErrorCode.REBALANCE_IN_PROGRESS;
      case 'Stable':
      case 'PreparingRebalance':
        // Commits go on during a rebalance; the heartbeat answer tells the member to rejoin.
        this.scheduleHeartbeat(group, group.get(p.memberId));
        break;
      default:
        break;
    }
    return ErrorCode.NONE;
  }

  /**
   * TxnOffsetCommit (Kafka's handleTxnCommitOffsets): the offsets are written to the group's
   * partition as a transactional batch of the producer and stay pending until its
   * transaction's marker reaches that partition (onTransactionMarker). With a generation,
   * member id or instance id (v3+, KIP-447) the producer's consumer must be a current member,
   * so a zombie of an old generation is fenced; without them anyone may commit, even into a
   * group with members. One error for every partition given.
   */
  commitTransactionalOffsets(p: TxnCommitParams): number {
    const error = this.validateGroupStatus(p.groupId, false);
    if (error !== ErrorCode.NONE) return error;
    let group = this.groups.get(p.groupId);
    if (group === undefined) {
      group = new ConsumerGroup(p.groupId, 'Empty', Date.now());
      this.groups.set(p.groupId, group);
    }
    const code = this.doCommitTransactionalOffsets(group, p);
    this.dropIfUnused(group);
    return code;
  }

  private doCommitTransactionalOffsets(group: ConsumerGroup, p: TxnCommitParams): number {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (p.generationId >= 0 || p.memberId !== '' || p.groupInstanceId !== null) {
      if (group.isStaticMemberFenced(p.memberId, p.groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
      if (!group.has(p.memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (p.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    }
    const now = Date.now();
    const stored: StoredOffset[] = p.offsets.map((o) => ({
      topic: o.topic,
      partition: o.partition,
      value: {
        offset: o.offset,
        leaderEpoch: o.leaderEpoch,
        metadata: o.metadata,
        commitTimestamp: now,
        expireTimestamp: null,
      },
    }));
    let appendedAt: number[];
    try {
      appendedAt = this.store.storeTransactionalOffsets(
        group.groupId,
        p.producerId,
        p.producerEpoch,
        stored,
        now,
      );
    } catch (err) {
      this.logger.warn(
        `committing offsets of group ${group.groupId} in the transaction of producer ${p.producerId} failed: ${(err as Error).message}`,
      );
      return storeErrorCode(err, true);
    }
    group.addPendingTransactionalOffsets(
      p.producerId,
      stored.map((o, i) => ({ ...o, appendedAt: appendedAt[i] })),
    );
    this.openGroupFor(p.producerId, group.groupId);
    return ErrorCode.NONE;
  }

  private openGroupFor(producerId: number, groupId: string): void {
    let groups = this.openGroupsForProducer.get(producerId);
    if (groups === undefined) {
      groups = new Set();
      this.openGroupsForProducer.set(producerId, groups);
    }
    groups.add(groupId);
  }

  /**
   * A transaction marker was written to a partition of __consumer_offsets: the producer's
   * pending offsets for the groups of that partition become committed, or go (Kafka's
   * handleTxnCompletion). Markers of other topics and of partitions coordinated elsewhere are ignored.
   */
  onTransactionMarker(topic: string, partition: number, producerId: number, committed: boolean): void {
    if (topic !== OFFSETS_TOPIC || !this.active) return;
    if (this.owned !== null && !this.owned.has(partition)) return;
    const groupIds = this.openGroupsForProducer.get(producerId);
    if (groupIds === undefined) return;
    for (const groupId of [...groupIds]) {
      if (this.store.partitionFor(groupId) !== partition) continue;
      groupIds.delete(groupId);
      const group = this.groups.get(groupId);
      if (group === undefined) continue;
      group.completePendingTransactionalOffsets(producerId, committed);
      this.dropIfUnused(group);
    }
    if (groupIds.size === 0) this.openGroupsForProducer.delete(producerId);
  }

  /**
   * Committed offsets of the partitions asked for, or of every partition when `partitions` is
   * null; -1 for a partition without one. Offsets are returned whatever the group's state,
   * since a group may use Kafka only to store them.
   */
  fetchOffsets(
    groupId: string,
    partitions: readonly { topic: string; partition: number }[] | null,
    requireStable = false,
  ): { errorCode: number; offsets: FetchedOffset[] } {
    const error = this.validateGroupStatus(groupId, true);
    if (error !== ErrorCode.NONE) return { errorCode: error, offsets: [] };
    const group = this.groups.get(groupId);
    const known = group === undefined || group.is('Dead') ? undefined : group;
    const wanted = partitions ?? (known === undefined ? [] : [...known.offsets.values()]);
    return {
      errorCode: ErrorCode.NONE,
      offsets: wanted.map(({ topic, partition }) => {
        // OffsetFetch v7+ (KIP-447): an offset its transaction may still change is not given out.
        if (requireStable && known?.hasPendingOffsetCommit(topic, partition) === true)
          return {
            topic,
            partition,
            offset: -1,
            leaderEpoch: -1,
            metadata: '',
            errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT,
          };
        const o: CommittedOffset | undefined = known?.offset(topic, partition);
        return {
          topic,
          partition,
          offset: o?.offset ?? -1,
          leaderEpoch: o?.leaderEpoch ?? -1,
          metadata: o?.metadata ?? '',
          errorCode: ErrorCode.NONE,
        };
      }),
    };
  }

  /** OffsetDelete: only for partitions of topics the group does not consume (any, when it is empty). */
  deleteOffsets(
    groupId: string,
    partitions: readonly { topic: string; partition: number }[],
  ): { errorCode: number; partitions: { topic: string; partition: number; errorCode: number }[] } {
    const error = this.validateGroupStatus(groupId, false);
    if (error !== ErrorCode.NONE) return { errorCode: error, partitions: [] };
    const group = this.groups.get(groupId);
    if (group === undefined || group.is('Dead'))
      return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, partitions: [] };
    let eligible: { topic: string; partition: number }[];
    const refused: { topic: string; partition: number; errorCode: number }[] = [];
    if (group.is('Empty')) {
      eligible = [...partitions];
    } else if (group.isConsumerGroup) {
      eligible = [];
      for (const tp of partitions) {
        if (group.isSubscribedToTopic(tp.topic))
          refused.push({ ...tp, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC });
        else eligible.push(tp);
      }
    } else {
      return { errorCode: ErrorCode.NON_EMPTY_GROUP, partitions: [] };
    }
    if (eligible.length > 0) this.cleanupGroupMetadata([group], (g) => this.removeOffsets(g, eligible));
    return {
      errorCode: ErrorCode.NONE,
      partitions: [...refused, ...eligible.map((tp) => ({ ...tp, errorCode: ErrorCode.NONE }))],
    };
  }

  private removeOffsets(
    group: ConsumerGroup,
    partitions: readonly { topic: string; partition: number }[],
  ): { topic: string; partition: number }[] {
    const removed: { topic: string; partition: number }[] = [];
    for (const { topic, partition } of partitions) {
      if (group.offsets.delete(topicPartitionKey(topic, partition))) removed.push({ topic, partition });
    }
    return removed;
  }

  /**
   * Removes offsets chosen by `select` and writes their tombstones; a group left empty with no
   * offsets (and no member about to join) is Dead and removed, with a tombstone for its
   * metadata when it ever had a generation.
   */
  private cleanupGroupMetadata(
    groups: readonly ConsumerGroup[],
    select: (group: ConsumerGroup) => { topic: string; partition: number }[],
  ): number {
    const now = Date.now();
    let removedCount = 0;
    for (const group of groups) {
      const removed = select(group);
      removedCount += removed.length;
      // A member holding an id from MEMBER_ID_REQUIRED is about to join: the group stays for it.
      if (group.is('Empty') && !group.hasOffsets && group.pendingMembers.size === 0) {
        group.transitionTo('Dead', now);
        this.clearTimers(group);
      }
      const dead = group.is('Dead');
      if (dead && this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
      try {
        this.store.writeTombstones(group.groupId, removed, dead && group.generationId > 0, now);
      } catch (err) {
        this.logger.warn(`could not write tombstones for group ${group.groupId}: ${(err as Error).message}`);
      }
    }
    return removedCount;
  }

  /** The offsets.retention.minutes pass: expired offsets go, and empty groups without offsets with them. */
  cleanupExpiredOffsets(now: number): number {
    if (!this.active) return 0;
    const groups = [...this.groups.values()];
    const removed = this.cleanupGroupMetadata(groups, (g) =>
      this.removeOffsets(g, g.expiredOffsets(now, this.config.offsetsRetentionMs)),
    );
    if (removed > 0) this.logger.log(`removed ${removed} expired offset(s)`);
    return removed;
  }

  // ---- admin ------------------------------------------------------------------------------

  listGroups(statesFilter: readonly string[]): { errorCode: number; groups: GroupOverview[] } {
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] };
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    const groups = [...this.groups.values()]
      .filter((g) => !g.is('Dead') && (states.size === 0 || states.has(g.state.toLowerCase())))
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType ?? '', state: g.state }));
    return { errorCode: ErrorCode.NONE, groups };
  }

  /** A group this coordinator does not know is described as Dead with no error, as Kafka does. */
  describeGroup(groupId: string): GroupDescription {
    const error = this.validateGroupStatus(groupId, true);
    const dead = { groupId, state: 'Dead' as const, protocolType: '', protocol: '', members: [] };
    if (error !== ErrorCode.NONE) return { errorCode: error, ...dead };
    const group = this.groups.get(groupId);
    if (group === undefined) return { errorCode: ErrorCode.NONE, ...dead };
    const stable = group.is('Stable') && group.protocolName !== null;
    const protocol = stable ? (group.protocolName as string) : '';
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      state: group.state,
      protocolType: group.protocolType ?? '',
      protocol,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable ? m.metadata(protocol) : EMPTY,
        assignment: stable ? m.assignment : EMPTY,
      })),
    };
  }

  /** Deletes empty groups and their offsets; NON_EMPTY_GROUP while members remain. */
  deleteGroups(groupIds: readonly string[]): Map<string, number> {
    const results = new Map<string, number>();
    const eligible: ConsumerGroup[] = [];
    const now = Date.now();
    for (const groupId of groupIds) {
      const error = this.validateGroupStatus(groupId, true);
      if (error !== ErrorCode.NONE) {
        results.set(groupId, error);
        continue;
      }
      const group = this.groups.get(groupId);
      if (group === undefined || group.is('Dead')) {
        results.set(groupId, ErrorCode.GROUP_ID_NOT_FOUND);
      } else if (group.is('Empty')) {
        group.transitionTo('Dead', now);
        this.clearTimers(group);
        eligible.push(group);
        results.set(groupId, ErrorCode.NONE);
      } else {
        results.set(groupId, ErrorCode.NON_EMPTY_GROUP);
      }
    }
    if (eligible.length > 0) {
      const removed = this.cleanupGroupMetadata(eligible, (g) =>
        this.removeOffsets(g, [...g.offsets.values()]),
      );
      this.logger.log(
        `deleted group(s) ${eligible.map((g) => g.groupId).join(', ')} with ${removed} committed offset(s)`,
      );
    }
    return results;
  }
}

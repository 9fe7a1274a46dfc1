import {
  ConsumerProtocolAssignment,
  ConsumerProtocolSubscription,
  decodeMessage,
  encodeMessage,
  ErrorCode,
  Heartbeat,
  JoinGroup,
  KafkaProtocolError,
  LeaveGroup,
  SyncGroup,
} from '@tributary/protocol';
import { sleep, type Cluster } from '../cluster/cluster';
import { ConnectionError } from '../network/connection';
import type { Assignor, MemberSubscription, TopicPartitions } from './assignors';

export interface GroupMemberOptions {
  readonly groupId: string;
  readonly groupInstanceId: string | null;
  readonly sessionTimeoutMs: number;
  /** How long the coordinator waits for members to rejoin (max.poll.interval.ms). */
  readonly rebalanceTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly assignors: readonly Assignor[];
  readonly rackId: string | null;
}

/** Errors after which this member's generation is gone: it must rejoin, and its partitions are lost. */
const LOST = new Set<number>([ErrorCode.ILLEGAL_GENERATION, ErrorCode.UNKNOWN_MEMBER_ID]);
const COORDINATOR_MOVED = new Set<number>([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
]);

const PROTOCOL_TYPE = 'consumer';

export function assignmentToList(a: TopicPartitions): { topic: string; partitions: number[] }[] {
  return [...a].map(([topic, partitions]) => ({ topic, partitions: [...partitions] }));
}

/**
 * One consumer's membership in its group, Kafka's classic protocol: find the coordinator,
 * JoinGroup (twice from v4: the first hands out the member id), run the assignor when
 * elected leader, SyncGroup, then heartbeat until the coordinator asks for a rebalance.
 */
export class GroupMember {
  memberId = '';
  generationId = -1;
  protocolName: string | null = null;
  coordinator = -1;
  /** Set when the group is rebalancing (or this member was never in it): the consumer rejoins. */
  needsRejoin = true;
  /** Set when the generation was lost: the partitions must be dropped without a commit. */
  lost = false;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private fatal: Error | null = null;

  constructor(
    private readonly cluster: Cluster,
    readonly options: GroupMemberOptions,
  ) {}

  get rebalanceProtocol(): 'EAGER' | 'COOPERATIVE' {
    const chosen =
      this.options.assignors.find((a) => a.name === this.protocolName) ?? this.options.assignors[0];
    return chosen.rebalanceProtocol;
  }

  /** A fatal error from the coordinator (fenced instance id, inconsistent protocol), once seen. */
  get fatalError(): Error | null {
    return this.fatal;
  }

  async ensureCoordinator(): Promise<number> {
    if (this.coordinator < 0) this.coordinator = await this.cluster.findCoordinator(this.options.groupId);
    return this.coordinator;
  }

  private markCoordinatorUnknown(): void {
    this.coordinator = -1;
  }

  /**
   * Joins (or rejoins) the group and returns this member's assignment. `owned` is what the
   * member still holds (cooperative protocol) and goes into its subscription.
   */
  async join(topics: readonly string[], owned: TopicPartitions): Promise<TopicPartitions> {
    const o = this.options;
    for (let attempt = 0; ; attempt++) {
      if (this.fatal !== null) throw this.fatal;
      try {
        const coordinator = await this.ensureCoordinator();
        const protocols = o.assignors.map((a) => ({
          name: a.name,
          metadata: encodeMessage(ConsumerProtocolSubscription, 3, {
            topics: [...topics].sort(),
            userData: null,
            ownedPartitions: a.rebalanceProtocol === 'COOPERATIVE' ? assignmentToList(owned) : [],
            generationId: this.generationId,
            rackId: o.rackId,
          }),
        }));
        const conn = await this.cluster.connection(coordinator);
        const joined = await conn.request(
          JoinGroup,
          {
            groupId: o.groupId,
            sessionTimeoutMs: o.sessionTimeoutMs,
            rebalanceTimeoutMs: o.rebalanceTimeoutMs,
            memberId: this.memberId,
            groupInstanceId: o.groupInstanceId,
            protocolType: PROTOCOL_TYPE,
            protocols,
            reason: null,
          },
          { timeoutMs: o.rebalanceTimeoutMs + 5000 },
        );
        if (joined.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
          this.memberId = joined.memberId;
          continue;
        }
        if (joined.errorCode !== ErrorCode.NONE)
          throw new KafkaProtocolError(joined.errorCode, `JoinGroup ${o.groupId}`);
        this.memberId = joined.memberId;
        this.generationId = joined.generationId;
        this.protocolName = joined.protocolName;
        const assignments =
          joined.leader === joined.memberId
            ? await this.assignAsLeader(joined.protocolName ?? '', joined.members)
            : [];
        const synced = await conn.request(
          SyncGroup,
          {
            groupId: o.groupId,
            generationId: this.generationId,
            memberId: this.memberId,
            groupInstanceId: o.groupInstanceId,
            protocolType: PROTOCOL_TYPE,
            protocolName: joined.protocolName,
            assignments,
          },
          { timeoutMs: o.rebalanceTimeoutMs + 5000 },
        );
        if (synced.errorCode !== ErrorCode.NONE)
          throw new KafkaProtocolError(synced.errorCode, `SyncGroup ${o.groupId}`);
        this.needsRejoin = false;
        this.lost = false;
        this.startHeartbeats();
        const assignment = new Map<string, number[]>();
        if (synced.assignment.length > 0) {
          for (const a of decodeMessage(ConsumerProtocolAssignment, synced.assignment).value
            .assignedPartitions) {
            assignment.set(
              a.topic,
              [...a.partitions].sort((x, y) => x - y),
            );
          }
        }
        return assignment;
      } catch (err) {
        const code = err instanceof KafkaProtocolError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
        if (code === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = '';
        if (LOST.has(code)) this.generationId = -1;
        if (COORDINATOR_MOVED.has(code) || err instanceof ConnectionError) this.markCoordinatorUnknown();
        const retriable =
          code === ErrorCode.REBALANCE_IN_PROGRESS ||
          LOST.has(code) ||
          COORDINATOR_MOVED.has(code) ||
          err instanceof ConnectionError ||
          (err instanceof KafkaProtocolError && err.retriable);
        if (!retriable) {
          if (code === ErrorCode.FENCED_INSTANCE_ID || code === ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
            this.fatal = err as Error;
          throw err;
        }
        this.cluster.logger.debug?.(`join ${o.groupId}: ${(err as Error).message}; retrying`);
        await sleep(Math.min(1000, 100 * 2 ** Math.min(attempt, 4)));
      }
    }
  }

  private async assignAsLeader(
    protocolName: string,
    members: readonly { memberId: string; groupInstanceId: string | null; metadata: Buffer }[],
  ): Promise<{ memberId: string; assignment: Buffer }[]> {
    const assignor = this.options.assignors.find((a) => a.name === protocolName);
    if (assignor === undefined) {
      throw new KafkaProtocolError(
        ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
        `the coordinator chose unknown assignor ${protocolName}`,
      );
    }
    const subscriptions: MemberSubscription[] = members.map((m) => {
      const s = decodeMessage(ConsumerProtocolSubscription, m.metadata).value;
      return {
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        topics: s.topics,
        ownedPartitions: s.ownedPartitions,
        generationId: s.generationId,
      };
    });
    const topics = [...new Set(subscriptions.flatMap((s) => s.topics))];
    this.cluster.want(topics);
    await this.cluster.refreshMetadata({ allowAutoTopicCreation: false });
    const counts = new Map<string, number>();
    for (const t of topics) {
      const info = this.cluster.topic(t);
      if (info !== undefined) counts.set(t, info.partitions.length);
    }
    const result = assignor.assign(subscriptions, counts);
    return subscriptions.map((s) => ({
      memberId: s.memberId,
      assignment: encodeMessage(ConsumerProtocolAssignment, 0, {
        assignedPartitions: assignmentToList(result.get(s.memberId) ?? new Map<string, number[]>()),
        userData: null,
      }),
    }));
  }

  private startHeartbeats(): void {
    this.stopHeartbeats();
    const beat = async (): Promise<void> => {
      if (this.needsRejoin) return;
      try {
        const coordinator = await this.ensureCoordinator();
        const r = await this.cluster.send(coordinator, Heartbeat, {
          groupId: this.options.groupId,
          generationId: this.generationId,
          memberId: this.memberId,
          groupInstanceId: this.options.groupInstanceId,
        });
        this.onHeartbeatError(r.errorCode);
      } catch (err) {
        if (err instanceof KafkaProtocolError && !(err instanceof ConnectionError))
          this.onHeartbeatError(err.code);
        else this.markCoordinatorUnknown();
      }
    };
    this.heartbeatTimer = setInterval(() => void beat(), this.options.heartbeatIntervalMs);
  }

  private onHeartbeatError(code: number): void {
    if (code === ErrorCode.NONE) return;
    if (code === ErrorCode.REBALANCE_IN_PROGRESS) this.needsRejoin = true;
    else if (LOST.has(code)) {
      if (code === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = '';
      this.generationId = -1;
      this.lost = true;
      this.needsRejoin = true;
    } else if (COORDINATOR_MOVED.has(code)) this.markCoordinatorUnknown();
    else if (code === ErrorCode.FENCED_INSTANCE_ID) {
      this.fatal = new KafkaProtocolError(
        code,
        `${this.options.groupInstanceId} was fenced by a newer member`,
      );
      this.lost = true;
      this.needsRejoin = true;
    }
  }

  stopHeartbeats(): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  /** Leaves the group (a static member stays: its instance id keeps its place for session.timeout.ms). */
  async leave(): Promise<void> {
    this.stopHeartbeats();
    if (this.memberId === '' || this.coordinator < 0 || this.options.groupInstanceId !== null) return;
    try {
      await this.cluster.send(this.coordinator, LeaveGroup, {
        groupId: this.options.groupId,
        memberId: this.memberId,
        members: [{ memberId: this.memberId, groupInstanceId: null, reason: 'the consumer is closing' }],
      });
    } catch (err) {
      this.cluster.logger.warn(`leaving group ${this.options.groupId} failed: ${(err as Error).message}`);
    }
    this.memberId = '';
    this.generationId = -1;
  }
}

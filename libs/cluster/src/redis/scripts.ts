import fs from 'node:fs';
import path from 'node:path';
import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';

/** The negative answers of the Lua scripts (see each script's header). */
export const ScriptError = {
  DuplicateRegistration: -1,
  NotRegistered: -2,
  UnknownTopic: -3,
  VersionMismatch: -4,
  NotController: -5,
  FencedLeaderEpoch: -6,
  IneligibleReplica: -7,
  TopicExists: -8,
  ControllerTaken: -9,
  NoClusterState: -10,
} as const;
export type ScriptError = (typeof ScriptError)[keyof typeof ScriptError];

const KAFKA_CODES: Record<number, { code: number; message: string }> = {
  [ScriptError.DuplicateRegistration]: {
    code: ErrorCode.DUPLICATE_BROKER_REGISTRATION,
    message: 'another process is registered with this node.id',
  },
  [ScriptError.NotRegistered]: {
    code: ErrorCode.BROKER_ID_NOT_REGISTERED,
    message: 'the broker is not registered',
  },
  [ScriptError.UnknownTopic]: {
    code: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    message: 'the topic does not exist',
  },
  [ScriptError.VersionMismatch]: {
    code: ErrorCode.INVALID_UPDATE_VERSION,
    message: 'the state changed since it was read',
  },
  [ScriptError.NotController]: {
    code: ErrorCode.NOT_CONTROLLER,
    message: 'this broker is not the controller',
  },
  [ScriptError.FencedLeaderEpoch]: {
    code: ErrorCode.FENCED_LEADER_EPOCH,
    message: 'the leader or its epoch changed',
  },
  [ScriptError.IneligibleReplica]: {
    code: ErrorCode.INELIGIBLE_REPLICA,
    message: 'a replica joining the ISR is not a live broker',
  },
  [ScriptError.TopicExists]: { code: ErrorCode.TOPIC_ALREADY_EXISTS, message: 'the topic already exists' },
  [ScriptError.ControllerTaken]: {
    code: ErrorCode.NOT_CONTROLLER,
    message: 'another broker is the controller',
  },
  [ScriptError.NoClusterState]: {
    code: ErrorCode.COORDINATOR_NOT_AVAILABLE,
    message: "Redis has lost the cluster's state and it is not restored yet",
  },
};

/** A script's refusal, with the Kafka error code it means and the script's own code. */
export class ScriptRefusal extends KafkaProtocolError {
  constructor(
    readonly script: string,
    readonly result: ScriptError,
    detail: string,
  ) {
    const mapped = KAFKA_CODES[result] ?? { code: ErrorCode.UNKNOWN_SERVER_ERROR, message: `code ${result}` };
    super(mapped.code, `${detail}: ${mapped.message}`);
    this.name = 'ScriptRefusal';
  }
}

type Arg = string | number;

/**
 * A Lua script declared once, BullMQ style: its file beside this one
 * (`scripts/<name>-<number of keys>.lua`, whose header documents KEYS and ARGV), the names of
 * its KEYS in order, and the types of its ARGV. ClusterStore's calls are checked against them:
 * keys by name, arguments by position and type.
 */
export interface ClusterScript<K extends string, A extends readonly Arg[]> {
  readonly name: string;
  readonly keys: readonly K[];
  /** Never set: carries the ARGV type for the callers' type check. */
  readonly argv?: A;
}

const script =
  <A extends readonly Arg[]>() =>
  <const K extends string>(name: string, keys: readonly K[]): ClusterScript<K, A> => ({ name, keys });

/** The change channel every script publishes its change on. */
type Channel = string;
/** A partition state's JSON (encodeState). */
type StateJson = string;

export const SCRIPTS = {
  registerBroker: script<
    [
      id: number,
      incarnation: string,
      sessionTimeoutMs: number,
      host: string,
      port: number,
      rack: string,
      channel: Channel,
      endpoints: string,
      offlineLogDirs: string,
    ]
  >()('register-broker', ['broker', 'brokers']),
  heartbeatBroker: script<
    [
      incarnation: string,
      sessionTimeoutMs: number,
      shuttingDown: '0' | '1',
      channel: Channel,
      offlineLogDirs: string,
    ]
  >()('heartbeat-broker', ['broker']),
  unregisterBroker: script<[incarnation: string, channel: Channel]>()('unregister-broker', ['broker']),
  acquireController: script<[id: number, leaseMs: number, channel: Channel]>()('acquire-controller', [
    'controller',
    'controllerEpoch',
    'cluster',
  ]),
  renewController: script<[lease: string, leaseMs: number]>()('renew-controller', ['controller']),
  resignController: script<[lease: string, channel: Channel]>()('resign-controller', ['controller']),
  alterAcls: script<[channel: Channel, added: number, ...bindings: string[]]>()('alter-acls', ['acls']),
  alterScramCredentials: script<[channel: Channel, set: number, ...fieldsAndValues: string[]]>()(
    'alter-scram-credentials',
    ['scramCredentials'],
  ),
  alterBrokerConfigs: script<[entity: string, expectedVersion: number, configs: string, channel: Channel]>()(
    'alter-broker-configs',
    ['brokerConfigs'],
  ),
  alterClientQuotas: script<
    [channel: Channel, expectedVersion: number, set: number, ...entities: string[]]
  >()('alter-client-quotas', ['clientQuotas', 'clientQuotasVersion']),
  createTopic: script<
    [name: string, topicId: string, configs: string, channel: Channel, ...states: StateJson[]]
  >()('create-topic', ['topics', 'topic', 'partitions', 'cluster']),
  deleteTopic: script<[name: string, channel: Channel]>()('delete-topic', [
    'topics',
    'topic',
    'partitions',
    'deletedTopics',
  ]),
  addPartitions: script<[name: string, expectedCount: number, channel: Channel, ...states: StateJson[]]>()(
    'add-partitions',
    ['topic', 'partitions'],
  ),
  alterTopicConfigs: script<[name: string, expectedVersion: number, configs: string, channel: Channel]>()(
    'alter-topic-configs',
    ['topic'],
  ),
  updatePartition: script<
    [
      lease: string,
      topic: string,
      partition: number,
      expectedEpoch: number,
      state: StateJson,
      channel: Channel,
    ]
  >()('update-partition', ['controller', 'topic', 'partitions']),
  alterPartition: script<
    [
      topic: string,
      partition: number,
      leaderId: number,
      leaderEpoch: number,
      expectedEpoch: number,
      state: StateJson,
      registrationPrefix: string,
      channel: Channel,
      ...joiningIsr: number[],
    ]
  >()('alter-partition', ['partitions']),
} as const;

/** A declared script with its Lua source, read once. */
export interface LoadedScript {
  readonly name: string;
  readonly numberOfKeys: number;
  readonly lua: string;
}

/** Reads every declared script's file; a declaration without its file fails here, at start. */
export function loadScripts(dir = path.join(__dirname, 'scripts')): Map<string, LoadedScript> {
  return new Map(
    Object.values(SCRIPTS).map((s) => [
      s.name,
      {
        name: s.name,
        numberOfKeys: s.keys.length,
        lua: fs.readFileSync(path.join(dir, `${s.name}-${s.keys.length}.lua`), 'utf8'),
      },
    ]),
  );
}

/** A script's numeric answer: negative codes become ScriptRefusal errors. */
export function checkResult(script: string, detail: string, result: unknown): number {
  const n = Number(result);
  if (!Number.isFinite(n)) throw new Error(`script ${script} answered ${String(result)}`);
  if (n < 0) throw new ScriptRefusal(script, n as ScriptError, detail);
  return n;
}

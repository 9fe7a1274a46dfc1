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

export interface ScriptDefinition {
  /** The command name ioredis defines, e.g. "updatePartition". */
  readonly command: string;
  readonly file: string;
  readonly numberOfKeys: number;
  readonly lua: string;
}

const SCRIPT_FILE = /^([a-z-]+)-(\d+)\.lua$/;

/**
 * The Lua scripts beside this file, BullMQ style: `<name>-<numKeys>.lua`, each with a header
 * naming its KEYS and ARGV. They are loaded once and defined as ioredis commands (EVALSHA).
 */
export function loadScripts(dir = path.join(__dirname, 'scripts')): ScriptDefinition[] {
  return fs
    .readdirSync(dir)
    .map((file) => ({ file, m: SCRIPT_FILE.exec(file) }))
    .filter((f): f is { file: string; m: RegExpExecArray } => f.m !== null)
    .map(({ file, m }) => ({
      command: m[1].replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()),
      file,
      numberOfKeys: Number(m[2]),
      lua: fs.readFileSync(path.join(dir, file), 'utf8'),
    }));
}

/** A script's numeric answer: negative codes become ScriptRefusal errors. */
export function checkResult(script: string, detail: string, result: unknown): number {
  const n = Number(result);
  if (!Number.isFinite(n)) throw new Error(`script ${script} answered ${String(result)}`);
  if (n < 0) throw new ScriptRefusal(script, n as ScriptError, detail);
  return n;
}

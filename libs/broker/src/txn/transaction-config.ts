import type { ConfigKeyDef } from '../config/broker-config';
import { ConfigError } from '../config/config-error';

/** The transaction coordinator's settings, under Kafka's names and with Kafka's defaults. */
export interface TransactionConfig {
  readonly stateLogNumPartitions: number;
  readonly stateLogReplicationFactor: number;
  readonly stateLogMinIsr: number;
  readonly stateLogSegmentBytes: number;
  readonly stateLogLoadBufferSize: number;
  readonly maxTimeoutMs: number;
  readonly transactionalIdExpirationMs: number;
  readonly abortTimedOutTransactionCleanupIntervalMs: number;
  readonly removeExpiredTransactionalIdCleanupIntervalMs: number;
  /** KIP-890: a transactional producer's first batch on a partition waits for its coordinator's word. */
  readonly partitionVerificationEnable: boolean;
}

const key = (name: string, type: ConfigKeyDef['type'], def: string, doc: string): ConfigKeyDef => ({
  name,
  type,
  default: def,
  doc,
});

export const TRANSACTION_CONFIG_KEYS: readonly ConfigKeyDef[] = [
  key(
    'transaction.state.log.num.partitions',
    'int',
    '50',
    'Partitions of __transaction_state when it is created.',
  ),
  key(
    'transaction.state.log.replication.factor',
    'short',
    '3',
    'Replication factor of __transaction_state; a smaller cluster uses all its brokers.',
  ),
  key(
    'transaction.state.log.min.isr',
    'int',
    '2',
    'min.insync.replicas of __transaction_state (at most its replication factor).',
  ),
  key('transaction.state.log.segment.bytes', 'int', '104857600', 'segment.bytes of __transaction_state.'),
  key(
    'transaction.state.log.load.buffer.size',
    'int',
    '5242880',
    'Bytes read at a time when a __transaction_state partition is loaded.',
  ),
  key(
    'transaction.max.timeout.ms',
    'int',
    '900000',
    'Largest transaction.timeout.ms a producer may ask for (else INVALID_TRANSACTION_TIMEOUT).',
  ),
  key(
    'transactional.id.expiration.ms',
    'int',
    '604800000',
    'How long a transactional id with no transaction in progress is kept after its last update.',
  ),
  key(
    'transaction.abort.timed.out.transaction.cleanup.interval.ms',
    'int',
    '10000',
    'How often transactions past their timeout are looked for and aborted.',
  ),
  key(
    'transaction.remove.expired.transaction.cleanup.interval.ms',
    'int',
    '3600000',
    'How often expired transactional ids are removed.',
  ),
  key(
    'transaction.partition.verification.enable',
    'boolean',
    'true',
    "Whether a partition leader asks a transactional producer's coordinator that the partition is in its transaction before its first batch there is appended (KIP-890).",
  ),
];

/** Reads and checks the transaction keys; `get` gives a key's value (set or default), `origin` where it was set. */
export function parseTransactionConfig(
  get: (name: string) => string,
  origin: (name: string) => string,
): TransactionConfig {
  const atLeast = (name: string, min: number): number => {
    const v = Number(get(name));
    if (v < min) throw new ConfigError(origin(name), name, `must be at least ${min}`);
    return v;
  };
  return {
    stateLogNumPartitions: atLeast('transaction.state.log.num.partitions', 1),
    stateLogReplicationFactor: atLeast('transaction.state.log.replication.factor', 1),
    stateLogMinIsr: atLeast('transaction.state.log.min.isr', 1),
    stateLogSegmentBytes: atLeast('transaction.state.log.segment.bytes', 1),
    stateLogLoadBufferSize: atLeast('transaction.state.log.load.buffer.size', 1),
    maxTimeoutMs: atLeast('transaction.max.timeout.ms', 1),
    transactionalIdExpirationMs: atLeast('transactional.id.expiration.ms', 1),
    abortTimedOutTransactionCleanupIntervalMs: atLeast(
      'transaction.abort.timed.out.transaction.cleanup.interval.ms',
      1,
    ),
    removeExpiredTransactionalIdCleanupIntervalMs: atLeast(
      'transaction.remove.expired.transaction.cleanup.interval.ms',
      1,
    ),
    partitionVerificationEnable: get('transaction.partition.verification.enable') === 'true',
  };
}

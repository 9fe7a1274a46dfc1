export { Mirror, type MirrorLogger, type MirrorOptions } from './mirror';
export {
  MirrorControl,
  MirrorOperationError,
  type FlowStatus,
  type PartitionLag,
  type MirroredTopicState,
  type PromotionOptions,
  type PromotionReport,
  type TopicPromotion,
  type GroupMove,
  type GroupOffsetsView,
} from './mirror-control';
export {
  parseMirrorConfig,
  readMirrorConfig,
  MirrorConfigError,
  type MirrorConfig,
  type FlowConfig,
  type ClusterConfig,
  type OffsetMode,
} from './config';
export {
  MIRROR_KEYS,
  type FlowError,
  type FlowThrottle,
  type TopicState,
  type UnitError,
  type UnitStatus,
  type WorkerInfo,
} from './mirror-store';
export { readCheckpoints } from './checkpoints';
export {
  decodeCheckpoint,
  decodeHeartbeat,
  decodeOffsetSync,
  encodeCheckpointKey,
  encodeCheckpointValue,
  encodeHeartbeatKey,
  encodeHeartbeatValue,
  encodeOffsetSyncKey,
  encodeOffsetSyncValue,
  checkpointsTopic,
  offsetSyncsTopic,
  HEARTBEATS_TOPIC,
  type Checkpoint,
  type Heartbeat,
  type OffsetSync,
} from './mm2-formats';
export { targetTopic, shouldMirror } from './policy';
export { ORIGIN_HEADER, parseOrigin, type Origin } from './provenance';
export { MirrorModule, MirrorService, MIRROR_SETTINGS, type MirrorSettings } from './mirror.module';
export {
  connectRedis,
  describeRedis,
  parseRedisEndpoint,
  REDIS_KEYS,
  type RedisEndpoint,
} from './redis-endpoint';

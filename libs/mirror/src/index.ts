export { Mirror, type MirrorLogger, type MirrorOptions } from './mirror';
export {
  parseMirrorConfig,
  MirrorConfigError,
  type MirrorConfig,
  type FlowConfig,
  type ClusterConfig,
  type OffsetMode,
} from './config';
export type { FlowStatus, UnitStatus, FlowState, FlowError, FlowThrottle } from './mirror-store';
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

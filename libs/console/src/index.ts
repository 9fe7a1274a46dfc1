export { ConsoleModule, type ConsoleModuleOptions } from './console.module';
export {
  ConsoleConfigError,
  readConsoleConfig,
  parseConsoleConfig,
  singleClusterConfig,
  clientOptionsOf,
  DEFAULT_CLIENT_SETTINGS,
  type ConsoleConfig,
  type ConsoleConfigOptions,
  type ConsoleMirror,
  type ClusterConfig,
} from './config/console-config';
export * from './flows/flow-source';
export { ClusterConnections } from './ops/cluster-connections';
export { ClusterOperations } from './ops/cluster-operations';
export type * from './ops/views';
export { ApiError, httpStatusOf, type ErrorBody } from './http/api-error';
export { OperationError, type OperationErrorKind } from './ops/operation-error';
export { tokenSha256, type ConsoleSecurity, type ConsoleToken } from './auth/bearer-tokens';
export type { ConsoleRole } from './auth/roles';
export { startConsole, type RunningConsole } from './start-console';
export { mirrorFlowSource } from './flows/mirror-flow-source';
export { collectMirrorMetrics } from './console-metrics';

export * from './registry';
export { startMetricsServer } from './metrics-server';

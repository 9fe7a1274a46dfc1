export * from './registry';
export { processCollector } from './process-collector';
export { startMetricsServer } from './metrics-server';

import { collectMirrorMetrics, mirrorFlowSource } from '@tributary/console';
import { MetricsRegistry, startMetricsServer } from '@tributary/metrics';
import type { Mirror } from '@tributary/mirror';

/**
 * A mirror worker's /metrics: its process metrics and the mirror families of the flows it
 * runs (lag, latency, throughput), read from the flows' status in Redis as the console reads them.
 */
export async function serveMirrorMetrics(
  mirror: Mirror,
  address: { host: string; port: number },
  announce: (line: string) => void,
): Promise<void> {
  const registry = new MetricsRegistry();
  registry.addProcessMetrics();
  const flows = mirrorFlowSource(() => mirror.control);
  registry.addCollector(() => collectMirrorMetrics(flows));
  const server = await startMetricsServer(registry, address);
  announce(`metrics on http://${server.host}:${server.port}/metrics`);
}

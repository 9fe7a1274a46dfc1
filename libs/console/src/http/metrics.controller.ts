import { Controller, Header, Inject } from '@nestjs/common';
import { PROMETHEUS_CONTENT_TYPE, type MetricsRegistry } from '@tributary/metrics';
import { METRICS_REGISTRY } from './common';
import { defineEndpoint, Endpoint } from './endpoint';

const METRICS = defineEndpoint({
  method: 'GET',
  path: '/metrics',
  tag: 'metrics',
  summary:
    'Prometheus metrics: brokers in this process, every cluster’s partitions and consumer lag, mirror flows',
  status: 200,
  produces: 'text/plain',
  responseDescription: 'The text exposition format, version 0.0.4',
});

@Controller()
export class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: MetricsRegistry) {}

  @Endpoint(METRICS)
  @Header('Content-Type', PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  metrics(): Promise<string> {
    return this.registry.render();
  }
}

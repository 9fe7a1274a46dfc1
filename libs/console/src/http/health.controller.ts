import { Controller } from '@nestjs/common';
import { ClusterConnections } from '../ops/cluster-connections';
import { ApiError } from './api-error';
import { defineEndpoint, Endpoint } from './endpoint';
import { array, boolean, integer, nullable, object, string } from './schema';

const HEALTH = defineEndpoint({
  method: 'GET',
  path: '/api/health',
  tag: 'health',
  summary: 'Liveness: the console process answers',
  status: 200,
  response: object({ status: string({ example: 'ok' }), uptimeSeconds: integer() }),
  responseDescription: 'Alive',
  role: 'public',
});

const clusterStates = array(object({ alias: string(), reachable: boolean(), error: nullable(string()) }));

const READY = defineEndpoint({
  method: 'GET',
  path: '/api/ready',
  tag: 'health',
  summary: 'Readiness: every configured cluster answers Metadata',
  description: '503 names the clusters that cannot be reached (details.clusters has each one’s state).',
  status: 200,
  response: object({ status: string({ example: 'ready' }), clusters: clusterStates }),
  responseDescription: 'Every cluster is reachable',
  errors: [503],
  role: 'public',
});

@Controller()
export class HealthController {
  constructor(private readonly clusters: ClusterConnections) {}

  @Endpoint(HEALTH)
  health() {
    return { status: 'ok', uptimeSeconds: Math.floor(process.uptime()) };
  }

  @Endpoint(READY)
  async ready() {
    const summaries = await Promise.all(this.clusters.aliases().map((a) => this.clusters.get(a).summary()));
    const clusters = summaries.map((s) => ({ alias: s.alias, reachable: s.reachable, error: s.error }));
    const down = clusters.filter((c) => !c.reachable);
    if (down.length > 0)
      throw new ApiError(
        503,
        `not ready: cannot reach ${down.map((c) => `${c.alias} (${c.error})`).join(', ')}`,
        {
          clusters,
        },
      );
    return { status: 'ready', clusters };
  }
}

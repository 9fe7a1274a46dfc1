import { Controller, Inject } from '@nestjs/common';
import { NO_MIRROR_MESSAGE, type FlowStatusSource } from '../flows/flow-source';
import { ClusterConnections } from '../ops/cluster-connections';
import {
  BrokerViewSchema,
  ClusterOverviewSchema,
  ClusterSummarySchema,
  ConfigViewSchema,
  TopologySchema,
} from '../ops/views';
import { clusterAlias, FLOW_SOURCE } from './common';
import { defineEndpoint, Endpoint, Input, type InputOf } from './endpoint';
import { array, integer, object } from './schema';

const LIST_CLUSTERS = defineEndpoint({
  method: 'GET',
  path: '/api/clusters',
  tag: 'clusters',
  summary: 'Every configured cluster, with what its Metadata says (unreachable ones say why)',
  status: 200,
  response: object({ items: array(ClusterSummarySchema) }),
  responseDescription: 'The clusters in configuration order',
});

const GET_CLUSTER = defineEndpoint({
  method: 'GET',
  path: '/api/clusters/:cluster',
  tag: 'clusters',
  summary: 'One cluster: brokers, topic and partition counts, groups, total consumer lag',
  description:
    'logEndOffsetSum grows by the records produced: sampling it twice gives the records-in rate (the dashboard charts it).',
  params: object({ cluster: clusterAlias() }),
  status: 200,
  response: ClusterOverviewSchema,
  responseDescription: 'The cluster overview',
  errors: [404],
});

const LIST_BROKERS = defineEndpoint({
  method: 'GET',
  path: '/api/clusters/:cluster/brokers',
  tag: 'clusters',
  summary: 'Brokers as Metadata shows them: controller, rack, liveness',
  params: object({ cluster: clusterAlias() }),
  status: 200,
  response: object({ items: array(BrokerViewSchema) }),
  responseDescription: 'Brokers by node id',
  errors: [404, 503],
});

const BROKER_CONFIGS = defineEndpoint({
  method: 'GET',
  path: '/api/clusters/:cluster/brokers/:nodeId/configs',
  tag: 'clusters',
  summary: "A broker's configuration (DescribeConfigs)",
  params: object({ cluster: clusterAlias(), nodeId: integer({ min: 0, description: 'Broker node id' }) }),
  status: 200,
  response: object({ items: array(ConfigViewSchema) }),
  responseDescription: 'Configs by name',
  errors: [404, 503],
});

const TOPOLOGY = defineEndpoint({
  method: 'GET',
  path: '/api/topology',
  tag: 'clusters',
  summary: 'Which cluster feeds which: the configured clusters and the mirror flows between them',
  status: 200,
  response: TopologySchema,
  responseDescription: 'Clusters and links',
});

@Controller()
export class ClustersController {
  constructor(
    private readonly clusters: ClusterConnections,
    @Inject(FLOW_SOURCE) private readonly flows: FlowStatusSource,
  ) {}

  @Endpoint(LIST_CLUSTERS)
  async list() {
    return { items: await Promise.all(this.clusters.aliases().map((a) => this.clusters.get(a).summary())) };
  }

  @Endpoint(GET_CLUSTER)
  async get(@Input() { params }: InputOf<typeof GET_CLUSTER>) {
    return this.clusters.get(params.cluster).overview();
  }

  @Endpoint(LIST_BROKERS)
  async brokers(@Input() { params }: InputOf<typeof LIST_BROKERS>) {
    return { items: await this.clusters.get(params.cluster).brokers() };
  }

  @Endpoint(BROKER_CONFIGS)
  async brokerConfigs(@Input() { params }: InputOf<typeof BROKER_CONFIGS>) {
    return { items: await this.clusters.get(params.cluster).brokerConfigs(params.nodeId) };
  }

  @Endpoint(TOPOLOGY)
  async topology() {
    const flows = await this.flows.listFlows();
    return {
      clusters: this.clusters.clusters.map((c) => ({
        alias: c.alias,
        datacenter: c.datacenter,
        bootstrapServers: [...c.bootstrapServers],
      })),
      links: flows.map((f) => ({
        flowId: f.id,
        source: f.source,
        target: f.target,
        state: f.state,
        lagRecords: f.lagRecords,
      })),
      mirror: {
        configured: this.flows.configured,
        provider: this.flows.provider,
        message: this.flows.configured ? null : NO_MIRROR_MESSAGE,
      },
    };
  }
}

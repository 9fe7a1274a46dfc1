import { Controller, Inject } from '@nestjs/common';
import { NO_MIRROR_MESSAGE, type FlowStatusSource } from '../flows/flow-source';
import { ClusterConnections } from '../ops/cluster-connections';
import {
  BrokerViewSchema,
  ClusterOverviewSchema,
  ClusterSummarySchema,
  ConfigViewSchema,
  QUOTA_KEYS,
  QuotaEntitySchema,
  QuotaViewSchema,
  TopologySchema,
} from '../ops/views';
import { clusterAlias, FLOW_SOURCE } from './common';
import { defineEndpoint, Endpoint, Input, type InputOf } from './endpoint';
import { array, boolean, integer, number, object, oneOf, optional, record } from './schema';

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

const LIST_QUOTAS = defineEndpoint({
  method: 'GET',
  path: '/api/clusters/:cluster/quotas',
  tag: 'clusters',
  summary: 'Client quotas: every user and client-id entity with its quotas (DescribeClientQuotas)',
  description:
    'Quotas are enforced by each broker on its own traffic. The most specific entity applies: user and client-id, user with the default client-id, user, the default user with the client-id, ..., client-id, the default client-id.',
  params: object({ cluster: clusterAlias() }),
  status: 200,
  response: object({ items: array(QuotaViewSchema) }),
  responseDescription: 'Entities, users first',
  errors: [403, 404, 503],
});

const ALTER_QUOTAS = defineEndpoint({
  method: 'PATCH',
  path: '/api/clusters/:cluster/quotas',
  tag: 'clusters',
  summary: "Set or remove an entity's client quotas (AlterClientQuotas)",
  description:
    'A quota on the client.id the mirror uses for a cluster (its client.id setting, tributary-mirror-<alias> by default) limits the replicator there: consumer_byte_rate its fetches from a source, producer_byte_rate its writes into a target.',
  params: object({ cluster: clusterAlias() }),
  body: object({
    entity: QuotaEntitySchema,
    set: optional(
      record(number({ min: 0, exclusiveMin: true }), {
        keyPattern: new RegExp(`^(${QUOTA_KEYS.join('|')})$`),
        keyHint: `is not a quota key (${QUOTA_KEYS.join(', ')})`,
        description: 'Quotas to set',
        example: { producer_byte_rate: 1048576 },
      }),
    ),
    remove: optional(array(oneOf(QUOTA_KEYS), { description: 'Quotas to remove' })),
    validateOnly: optional(boolean({ description: 'Check without changing anything' }), false),
  }),
  status: 200,
  response: QuotaViewSchema,
  responseDescription: "The entity's quotas after the change",
  errors: [400, 403, 404, 503],
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

  @Endpoint(LIST_QUOTAS)
  async quotas(@Input() { params }: InputOf<typeof LIST_QUOTAS>) {
    return { items: await this.clusters.get(params.cluster).clientQuotas() };
  }

  @Endpoint(ALTER_QUOTAS)
  async alterQuotas(@Input() { params, body }: InputOf<typeof ALTER_QUOTAS>) {
    return this.clusters
      .get(params.cluster)
      .alterClientQuotas(body.entity, body.set ?? {}, body.remove ?? [], body.validateOnly);
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

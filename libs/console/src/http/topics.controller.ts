import { Controller } from '@nestjs/common';
import { ApiError } from './api-error';
import { ClusterConnections } from '../ops/cluster-connections';
import {
  ConfigViewSchema,
  PageFields,
  RecordPageSchema,
  TopicDetailSchema,
  TopicSummarySchema,
} from '../ops/views';
import { clusterAlias, page, PAGING, topicName } from './common';
import { defineEndpoint, Endpoint, Input, type InputOf } from './endpoint';
import { array, boolean, integer, object, optional, record, string } from './schema';

const CONFIG_NAME = /^[a-z0-9][a-z0-9._-]*$/;

const topicParams = object({ cluster: clusterAlias(), topic: topicName() });

const LIST_TOPICS = defineEndpoint({
  method: 'GET',
  path: '/api/clusters/:cluster/topics',
  tag: 'topics',
  summary: 'Topics by name, a page at a time',
  params: object({ cluster: clusterAlias() }),
  query: object({
    ...PAGING,
    q: optional(
      string({ minLength: 1, maxLength: 249, description: 'Only names containing this (any case)' }),
    ),
    internal: optional(boolean({ description: 'Include internal topics (__consumer_offsets)' }), false),
  }),
  status: 200,
  response: object({ items: array(TopicSummarySchema), ...PageFields }),
  responseDescription: 'A page of topics',
  errors: [404, 503],
});

const CREATE_TOPIC = defineEndpoint({
  method: 'POST',
  path: '/api/clusters/:cluster/topics',
  tag: 'topics',
  summary: 'Create a topic (CreateTopics)',
  params: object({ cluster: clusterAlias() }),
  body: object({
    name: topicName(),
    partitions: optional(
      integer({
        min: 1,
        max: 100000,
        description: "Partitions; default: the broker's num.partitions",
        example: 3,
      }),
    ),
    replicationFactor: optional(
      integer({
        min: 1,
        max: 32767,
        description: "Replicas per partition; default: the broker's default.replication.factor",
      }),
    ),
    configs: optional(
      record(string({ maxLength: 4096 }), {
        keyPattern: CONFIG_NAME,
        keyHint: 'is not a config name (lower case, dotted, as retention.ms)',
        description: 'Topic config overrides by Kafka name',
        example: { 'retention.ms': '86400000', 'cleanup.policy': 'delete' },
      }),
    ),
  }),
  status: 201,
  response: TopicDetailSchema,
  responseDescription: 'The topic as created',
  errors: [404, 409, 503],
});

const GET_TOPIC = defineEndpoint({
  method: 'GET',
  path: '/api/clusters/:cluster/topics/:topic',
  tag: 'topics',
  summary: 'A topic: partitions with leader, replicas, ISR, log start and end offsets',
  params: topicParams,
  status: 200,
  response: TopicDetailSchema,
  responseDescription: 'The topic',
  errors: [404, 503],
});

const DELETE_TOPIC = defineEndpoint({
  method: 'DELETE',
  path: '/api/clusters/:cluster/topics/:topic',
  tag: 'topics',
  summary: 'Delete a topic (DeleteTopics)',
  params: topicParams,
  status: 204,
  responseDescription: 'Deleted',
  errors: [403, 404, 503],
});

const GET_CONFIGS = defineEndpoint({
  method: 'GET',
  path: '/api/clusters/:cluster/topics/:topic/configs',
  tag: 'topics',
  summary: "A topic's configs with their sources (DescribeConfigs)",
  params: topicParams,
  status: 200,
  response: object({ items: array(ConfigViewSchema) }),
  responseDescription: 'Configs by name',
  errors: [404, 503],
});

const ALTER_CONFIGS = defineEndpoint({
  method: 'PATCH',
  path: '/api/clusters/:cluster/topics/:topic/configs',
  tag: 'topics',
  summary: 'Set or remove topic config overrides (IncrementalAlterConfigs)',
  description: 'Removing an override returns the config to the broker default.',
  params: topicParams,
  body: object({
    set: optional(
      record(string({ maxLength: 4096 }), {
        keyPattern: CONFIG_NAME,
        keyHint: 'is not a config name (lower case, dotted, as retention.ms)',
        description: 'Overrides to set',
        example: { 'retention.ms': '3600000' },
      }),
    ),
    delete: optional(
      array(string({ pattern: CONFIG_NAME, patternHint: 'must be a config name (lower case, dotted)' }), {
        description: 'Overrides to remove',
        example: ['cleanup.policy'],
      }),
    ),
  }),
  status: 200,
  response: object({ items: array(ConfigViewSchema) }),
  responseDescription: 'The configs after the change',
  errors: [404, 503],
});

const ADD_PARTITIONS = defineEndpoint({
  method: 'POST',
  path: '/api/clusters/:cluster/topics/:topic/partitions',
  tag: 'topics',
  summary: 'Grow a topic to more partitions (CreatePartitions)',
  params: topicParams,
  body: object({ count: integer({ min: 1, max: 100000, description: 'The new total of partitions' }) }),
  status: 200,
  response: TopicDetailSchema,
  responseDescription: 'The topic after growing',
  errors: [404, 503],
});

const READ_RECORDS = defineEndpoint({
  method: 'GET',
  path: '/api/clusters/:cluster/topics/:topic/partitions/:partition/records',
  tag: 'topics',
  summary: 'Read a partition from an offset: keys, values, headers',
  description:
    'Records are read with the console’s consumer (assign and seek), up to limit or the log end. Keys, values and header values are text when they are printable UTF-8, base64 otherwise (see the *Encoding fields). An offset below the log start reads from the log start.',
  params: object({
    cluster: clusterAlias(),
    topic: topicName(),
    partition: integer({ min: 0, max: 100000, description: 'Partition index' }),
  }),
  query: object({
    offset: optional(integer({ min: 0, description: 'First offset to read; default: the log start' })),
    limit: optional(integer({ min: 1, max: 500, description: 'Most records to return' }), 50),
    maxWaitMs: optional(integer({ min: 0, max: 10000, description: 'Longest wait for the records' }), 2000),
  }),
  status: 200,
  response: RecordPageSchema,
  responseDescription: 'The records and where the next page starts',
  errors: [404, 503],
});

@Controller()
export class TopicsController {
  constructor(private readonly clusters: ClusterConnections) {}

  @Endpoint(LIST_TOPICS)
  async list(@Input() { params, query }: InputOf<typeof LIST_TOPICS>) {
    const all = await this.clusters
      .get(params.cluster)
      .listTopics({ includeInternal: query.internal, search: query.q });
    return page(all, query.limit, query.offset);
  }

  @Endpoint(CREATE_TOPIC)
  async create(@Input() { params, body }: InputOf<typeof CREATE_TOPIC>) {
    return this.clusters.get(params.cluster).createTopic(body);
  }

  @Endpoint(GET_TOPIC)
  async get(@Input() { params }: InputOf<typeof GET_TOPIC>) {
    return this.clusters.get(params.cluster).describeTopic(params.topic);
  }

  @Endpoint(DELETE_TOPIC)
  async delete(@Input() { params }: InputOf<typeof DELETE_TOPIC>): Promise<void> {
    await this.clusters.get(params.cluster).deleteTopic(params.topic);
  }

  @Endpoint(GET_CONFIGS)
  async configs(@Input() { params }: InputOf<typeof GET_CONFIGS>) {
    return { items: await this.clusters.get(params.cluster).topicConfigs(params.topic) };
  }

  @Endpoint(ALTER_CONFIGS)
  async alterConfigs(@Input() { params, body }: InputOf<typeof ALTER_CONFIGS>) {
    const set = body.set ?? {};
    const remove = body.delete ?? [];
    if (Object.keys(set).length === 0 && remove.length === 0)
      throw new ApiError(
        400,
        'the request body must set or delete at least one config (body.set, body.delete)',
      );
    return { items: await this.clusters.get(params.cluster).alterTopicConfigs(params.topic, set, remove) };
  }

  @Endpoint(ADD_PARTITIONS)
  async addPartitions(@Input() { params, body }: InputOf<typeof ADD_PARTITIONS>) {
    return this.clusters.get(params.cluster).addPartitions(params.topic, body.count);
  }

  @Endpoint(READ_RECORDS)
  async records(@Input() { params, query }: InputOf<typeof READ_RECORDS>) {
    return this.clusters.get(params.cluster).readRecords(params.topic, params.partition, {
      offset: query.offset,
      limit: query.limit,
      maxWaitMs: query.maxWaitMs,
    });
  }
}

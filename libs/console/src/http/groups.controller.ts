import { Controller } from '@nestjs/common';
import { ClusterConnections } from '../ops/cluster-connections';
import {
  GroupDetailSchema,
  GroupListItemSchema,
  PageFields,
  ResetOffsetsResultSchema,
  type ResetTarget,
} from '../ops/views';
import { ApiError } from './api-error';
import { clusterAlias, page, PAGING, topicName } from './common';
import { defineEndpoint, Endpoint, Input, type InputOf } from './endpoint';
import { array, boolean, integer, object, oneOf, optional, string, timestamp } from './schema';

const groupParams = object({
  cluster: clusterAlias(),
  group: string({ minLength: 1, maxLength: 255, description: 'Consumer group id', example: 'billing' }),
});

const LIST_GROUPS = defineEndpoint({
  method: 'GET',
  path: '/api/clusters/:cluster/groups',
  tag: 'groups',
  summary: 'Consumer groups by id, a page at a time, with members and total lag',
  params: object({ cluster: clusterAlias() }),
  query: object({
    ...PAGING,
    q: optional(string({ minLength: 1, maxLength: 255, description: 'Only ids containing this (any case)' })),
  }),
  status: 200,
  response: object({ items: array(GroupListItemSchema), ...PageFields }),
  responseDescription: 'A page of groups',
  errors: [404, 503],
});

const GET_GROUP = defineEndpoint({
  method: 'GET',
  path: '/api/clusters/:cluster/groups/:group',
  tag: 'groups',
  summary: 'A group: state, members and their assignments, lag per partition (log end - committed)',
  params: groupParams,
  status: 200,
  response: GroupDetailSchema,
  responseDescription: 'The group',
  errors: [404, 503],
});

const RESET_OFFSETS = defineEndpoint({
  method: 'POST',
  path: '/api/clusters/:cluster/groups/:group/reset-offsets',
  tag: 'groups',
  summary: "Reset a group's committed offsets (the group must have no active members)",
  description:
    'As kafka-consumer-groups --reset-offsets: to the earliest or latest offset, the first offset at or after a timestamp, or an offset (clamped to each partition’s log start and end); or, after failing over from a mirrored cluster, to the group’s last checkpoint from it (to=checkpoints, source=its alias: MirrorMaker 2’s <source>.checkpoints.internal in this cluster). Without topics, every partition the group committed (or was checkpointed on) is reset. 409 while the group has members.',
  params: groupParams,
  body: object({
    to: oneOf(['earliest', 'latest', 'timestamp', 'offset', 'checkpoints'] as const, {
      description: 'Where to move the offsets',
    }),
    timestamp: optional(timestamp({ description: 'With to=timestamp' })),
    source: optional(
      string({
        minLength: 1,
        maxLength: 64,
        description: 'With to=checkpoints: the alias of the mirrored source cluster',
      }),
    ),
    offset: optional(integer({ min: 0, description: 'With to=offset' })),
    topics: optional(
      array(
        object({
          topic: topicName(),
          partitions: optional(
            array(integer({ min: 0 }), { minItems: 1, description: 'Default: every partition' }),
          ),
        }),
        { minItems: 1, maxItems: 1000 },
      ),
    ),
    dryRun: optional(boolean({ description: 'Only say what would change' }), false),
  }),
  status: 200,
  response: ResetOffsetsResultSchema,
  responseDescription: 'Each partition’s previous and new offset',
  errors: [404, 409, 503],
  role: 'operator',
});

const DELETE_GROUP = defineEndpoint({
  method: 'DELETE',
  path: '/api/clusters/:cluster/groups/:group',
  tag: 'groups',
  summary: 'Delete a group and its committed offsets (the group must have no active members)',
  params: groupParams,
  status: 204,
  responseDescription: 'Deleted',
  errors: [404, 409, 503],
});

@Controller()
export class GroupsController {
  constructor(private readonly clusters: ClusterConnections) {}

  @Endpoint(LIST_GROUPS)
  async list(@Input() { params, query }: InputOf<typeof LIST_GROUPS>) {
    const ops = this.clusters.get(params.cluster);
    const all = await ops.listGroups(query.q);
    const p = page(all, query.limit, query.offset);
    return { ...p, items: await ops.groupsWithLag(p.items) };
  }

  @Endpoint(GET_GROUP)
  async get(@Input() { params }: InputOf<typeof GET_GROUP>) {
    return this.clusters.get(params.cluster).describeGroup(params.group);
  }

  @Endpoint(RESET_OFFSETS)
  async reset(@Input() { params, body }: InputOf<typeof RESET_OFFSETS>) {
    let target: ResetTarget;
    if (body.to === 'timestamp') {
      if (body.timestamp === undefined)
        throw new ApiError(400, 'body.timestamp is required when body.to is timestamp');
      target = { to: 'timestamp', timestamp: body.timestamp };
    } else if (body.to === 'offset') {
      if (body.offset === undefined)
        throw new ApiError(400, 'body.offset is required when body.to is offset');
      target = { to: 'offset', offset: body.offset };
    } else if (body.to === 'checkpoints') {
      if (body.source === undefined)
        throw new ApiError(
          400,
          'body.source is required when body.to is checkpoints (the mirrored cluster’s alias)',
        );
      target = { to: 'checkpoints', source: body.source };
    } else target = { to: body.to };
    if (body.to !== 'checkpoints' && body.source !== undefined)
      throw new ApiError(400, `body.source is only used with to=checkpoints, not to=${body.to}`);
    if (body.to !== 'timestamp' && body.timestamp !== undefined)
      throw new ApiError(400, `body.timestamp is only used with to=timestamp, not to=${body.to}`);
    if (body.to !== 'offset' && body.offset !== undefined)
      throw new ApiError(400, `body.offset is only used with to=offset, not to=${body.to}`);
    return this.clusters
      .get(params.cluster)
      .resetGroupOffsets(params.group, target, body.topics, body.dryRun);
  }

  @Endpoint(DELETE_GROUP)
  async delete(@Input() { params }: InputOf<typeof DELETE_GROUP>): Promise<void> {
    await this.clusters.get(params.cluster).deleteGroup(params.group);
  }
}

import { Controller, Inject } from '@nestjs/common';
import { NO_MIRROR_MESSAGE, type FlowStatusSource, type FlowSummary } from '../flows/flow-source';
import {
  CheckpointSchema,
  FlowDetailSchema,
  FlowSummarySchema,
  GroupOffsetsSchema,
  MirrorStatusSchema,
  MirrorWorkerSchema,
  PromotionReportSchema,
} from '../ops/views';
import { ApiError } from './api-error';
import { FLOW_SOURCE } from './common';
import { defineEndpoint, Endpoint, Input, type InputOf } from './endpoint';
import { array, boolean, integer, nullable, number, object, optional, string } from './schema';

const flowParams = object({
  flow: string({ minLength: 1, maxLength: 255, description: 'Flow id', example: 'dc1-a->dc1-agg' }),
});

const LIST_FLOWS = defineEndpoint({
  method: 'GET',
  path: '/api/flows',
  tag: 'mirror',
  summary: 'Mirror flows: state, lag, throughput, last checkpoint, errors',
  description:
    'mirror.configured is false when no replicator is attached to this console; items is then empty.',
  status: 200,
  response: object({ mirror: MirrorStatusSchema, items: array(FlowSummarySchema) }),
  responseDescription: 'The flows',
});

const GET_FLOW = defineEndpoint({
  method: 'GET',
  path: '/api/flows/:flow',
  tag: 'mirror',
  summary: 'A flow with lag per partition (records and seconds) and its recent errors',
  params: flowParams,
  status: 200,
  response: FlowDetailSchema,
  responseDescription: 'The flow',
  errors: [404],
});

const PAUSE = defineEndpoint({
  method: 'POST',
  path: '/api/flows/:flow/pause',
  tag: 'mirror',
  summary: 'Pause a flow (its position is kept)',
  params: flowParams,
  status: 200,
  response: FlowSummarySchema,
  responseDescription: 'The flow after the change',
  errors: [404],
  role: 'operator',
});

const RESUME = defineEndpoint({
  method: 'POST',
  path: '/api/flows/:flow/resume',
  tag: 'mirror',
  summary: 'Resume a paused flow',
  params: flowParams,
  status: 200,
  response: FlowSummarySchema,
  responseDescription: 'The flow after the change',
  errors: [404],
  role: 'operator',
});

const THROTTLE = defineEndpoint({
  method: 'POST',
  path: '/api/flows/:flow/throttle',
  tag: 'mirror',
  summary: 'Limit a flow’s rate (null removes a limit)',
  params: flowParams,
  body: object({
    recordsPerSecond: nullable(
      number({ min: 0, exclusiveMin: true, description: 'null: unlimited', example: 1000 }),
    ),
    bytesPerSecond: nullable(
      number({ min: 0, exclusiveMin: true, description: 'null: unlimited', example: null }),
    ),
  }),
  status: 200,
  response: FlowSummarySchema,
  responseDescription: 'The flow after the change',
  errors: [404],
  role: 'operator',
});

const LIST_WORKERS = defineEndpoint({
  method: 'GET',
  path: '/api/mirror/workers',
  tag: 'mirror',
  summary: 'Mirror workers: host, pid, uptime and the units (flow|topic|partition) each runs',
  status: 200,
  response: object({ mirror: MirrorStatusSchema, items: array(MirrorWorkerSchema) }),
  responseDescription: 'The workers seen in the last 10 seconds',
});

const topicNames = optional(
  array(string({ minLength: 1, maxLength: 249 }), {
    description: 'Source topic names; default every topic the flow mirrors',
    example: ['orders'],
  }),
);
const groupNames = optional(
  array(string({ minLength: 1, maxLength: 255 }), {
    description: 'Consumer groups whose offsets move along; default every group the flow checkpoints',
    example: ['billing'],
  }),
);
const waitMs = optional(
  integer({
    min: 1000,
    max: 600_000,
    description: 'How long to wait for the other side to catch up',
    example: 60000,
  }),
);

function move(action: 'promote' | 'failover' | 'reverse' | 'failback', summary: string, description: string) {
  return defineEndpoint({
    method: 'POST',
    path: `/api/flows/:flow/${action}`,
    tag: 'mirror',
    summary,
    description,
    params: flowParams,
    body: object(
      action === 'reverse'
        ? {
            topics: topicNames,
            recreateDiverged: optional(
              boolean({
                description:
                  'Recreate a source topic that holds records past the promotion point (they were never copied), then fill it from the target',
              }),
            ),
          }
        : action === 'failover'
          ? { topics: topicNames, groups: groupNames }
          : { topics: topicNames, groups: groupNames, timeoutMs: waitMs },
    ),
    status: 200,
    response: PromotionReportSchema,
    responseDescription:
      'What moved: per topic and partition where both sides ended, per group the offsets committed',
    errors: [404, 409],
    role: 'operator',
  });
}

const PROMOTE = move(
  'promote',
  'Planned promotion: the target topics become writable once they hold every source record',
  'Fences producers on the source topics (a Tributary source refuses them from now on), waits until the target caught up, moves the groups’ committed offsets and makes the target topics writable. No record is lost or copied twice.',
);
const FAILOVER = move(
  'failover',
  'Unplanned failover: the target topics become writable at once',
  'For a source that is gone: applies the groups’ last checkpoints on the target and reports per partition how far the target was behind the source’s last known end. The source is not contacted.',
);
const REVERSE = move(
  'reverse',
  'Copy what is written to promoted target topics back into the source topics',
  'The source topics become read-only mirrors of the promoted ones, with the same offsets. 409 when a source topic holds records past the promotion point, unless recreateDiverged.',
);
const FAILBACK = move(
  'failback',
  'Planned failback of reversed topics: the source topics become writable again',
  'Fences the target topics, waits until the source caught up, moves the groups’ offsets back and makes the source topics writable; the flow then mirrors source -> target again.',
);

const LIST_CHECKPOINTS = defineEndpoint({
  method: 'GET',
  path: '/api/flows/:flow/checkpoints',
  tag: 'mirror',
  summary:
    'The newest checkpoint of each group and partition (MirrorMaker 2’s <source>.checkpoints.internal)',
  params: flowParams,
  query: object({
    group: optional(string({ minLength: 1, maxLength: 255, description: 'Only this group' })),
  }),
  status: 200,
  response: object({ items: array(CheckpointSchema) }),
  responseDescription: 'The checkpoints in the target cluster',
  errors: [404],
});

const GROUP_OFFSETS = defineEndpoint({
  method: 'GET',
  path: '/api/flows/:flow/groups/:group/offsets',
  tag: 'mirror',
  summary: 'A group’s offsets for a flow: committed on the source, its checkpoint, committed on the target',
  params: object({ ...flowParams.shape, group: string({ minLength: 1, maxLength: 255 }) }),
  status: 200,
  response: GroupOffsetsSchema,
  responseDescription: 'Per partition of the group',
  errors: [404],
});

@Controller()
export class FlowsController {
  constructor(@Inject(FLOW_SOURCE) private readonly flows: FlowStatusSource) {}

  private mirrorStatus() {
    return {
      configured: this.flows.configured,
      provider: this.flows.provider,
      message: this.flows.configured ? null : NO_MIRROR_MESSAGE,
    };
  }

  private found<T>(id: string, flow: T | null): T {
    if (flow !== null) return flow;
    throw new ApiError(
      404,
      this.flows.configured
        ? `flow "${id}" does not exist`
        : `flow "${id}" does not exist: ${NO_MIRROR_MESSAGE}`,
      { mirror: this.mirrorStatus() },
    );
  }

  @Endpoint(LIST_FLOWS)
  async list() {
    return { mirror: this.mirrorStatus(), items: await this.flows.listFlows() };
  }

  @Endpoint(GET_FLOW)
  async get(@Input() { params }: InputOf<typeof GET_FLOW>) {
    return this.found(params.flow, await this.flows.describeFlow(params.flow));
  }

  @Endpoint(PAUSE)
  async pause(@Input() { params }: InputOf<typeof PAUSE>): Promise<FlowSummary> {
    return this.found(params.flow, await this.flows.pause(params.flow));
  }

  @Endpoint(RESUME)
  async resume(@Input() { params }: InputOf<typeof RESUME>): Promise<FlowSummary> {
    return this.found(params.flow, await this.flows.resume(params.flow));
  }

  @Endpoint(THROTTLE)
  async throttle(@Input() { params, body }: InputOf<typeof THROTTLE>): Promise<FlowSummary> {
    return this.found(params.flow, await this.flows.throttle(params.flow, body));
  }

  @Endpoint(LIST_WORKERS)
  async workers() {
    return { mirror: this.mirrorStatus(), items: await this.flows.workers() };
  }

  @Endpoint(PROMOTE)
  async promote(@Input() { params, body }: InputOf<typeof PROMOTE>) {
    return this.found(params.flow, await this.flows.promote(params.flow, body));
  }

  @Endpoint(FAILOVER)
  async failover(@Input() { params, body }: InputOf<typeof FAILOVER>) {
    return this.found(params.flow, await this.flows.failover(params.flow, body));
  }

  @Endpoint(REVERSE)
  async reverse(@Input() { params, body }: InputOf<typeof REVERSE>) {
    return this.found(params.flow, await this.flows.reverse(params.flow, body));
  }

  @Endpoint(FAILBACK)
  async failback(@Input() { params, body }: InputOf<typeof FAILBACK>) {
    return this.found(params.flow, await this.flows.failback(params.flow, body));
  }

  @Endpoint(LIST_CHECKPOINTS)
  async checkpoints(@Input() { params, query }: InputOf<typeof LIST_CHECKPOINTS>) {
    return { items: this.found(params.flow, await this.flows.checkpoints(params.flow, query.group)) };
  }

  @Endpoint(GROUP_OFFSETS)
  async groupOffsets(@Input() { params }: InputOf<typeof GROUP_OFFSETS>) {
    return this.found(params.flow, await this.flows.groupOffsets(params.flow, params.group));
  }
}

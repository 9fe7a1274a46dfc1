import { Controller, Inject } from '@nestjs/common';
import { NO_MIRROR_MESSAGE, type FlowStatusSource, type FlowSummary } from '../flows/flow-source';
import { FlowDetailSchema, FlowSummarySchema, MirrorStatusSchema } from '../ops/views';
import { ApiError } from './api-error';
import { FLOW_SOURCE } from './common';
import { defineEndpoint, Endpoint, Input, type InputOf } from './endpoint';
import { array, nullable, number, object, string } from './schema';

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
}

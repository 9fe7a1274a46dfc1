import {
  applyDecorators,
  createParamDecorator,
  HttpCode,
  RequestMapping,
  RequestMethod,
  SetMetadata,
  type ExecutionContext,
} from '@nestjs/common';
import type { RequiredRole } from '../auth/roles';
import { ApiError } from './api-error';
import {
  issueText,
  parseWith,
  type Infer,
  type Issue,
  type ObjectSchema,
  type Schema,
  type Shape,
} from './schema';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface EndpointSpec {
  readonly method: HttpMethod;
  /** Nest's form: /api/clusters/:cluster/topics. */
  readonly path: string;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  readonly params?: ObjectSchema<Shape>;
  readonly query?: ObjectSchema<Shape>;
  readonly body?: Schema<unknown>;
  /** The success status and what it returns (no schema: no body). */
  readonly status: number;
  readonly response?: Schema<unknown>;
  readonly responseDescription: string;
  /** Error statuses this endpoint answers, besides 400 for bad input and 500. */
  readonly errors?: readonly number[];
  /** A response that is not JSON (text/plain, text/html). */
  readonly produces?: string;
  /**
   * The role a bearer token needs once the console's security is on (see requiredRole):
   * by default viewer for GET and admin for everything else; 'public' needs no token.
   */
  readonly role?: RequiredRole;
}

/** The role an endpoint needs: its own, else viewer to read (GET) and admin to change anything. */
export function requiredRole(spec: Pick<EndpointSpec, 'method' | 'role'>): RequiredRole {
  return spec.role ?? (spec.method === 'GET' ? 'viewer' : 'admin');
}

export const ENDPOINT_SPEC = 'tributary:endpoint';

const METHODS: Record<HttpMethod, RequestMethod> = {
  GET: RequestMethod.GET,
  POST: RequestMethod.POST,
  PUT: RequestMethod.PUT,
  PATCH: RequestMethod.PATCH,
  DELETE: RequestMethod.DELETE,
};

/** Keeps a spec's literal types, so handlers get typed input. */
export function defineEndpoint<const E extends EndpointSpec>(spec: E): E {
  return spec;
}

/** Routes a controller method by its spec and keeps the spec for validation and the OpenAPI document. */
export function Endpoint(spec: EndpointSpec): MethodDecorator {
  return applyDecorators(
    RequestMapping({ path: spec.path, method: METHODS[spec.method] }),
    HttpCode(spec.status),
    SetMetadata(ENDPOINT_SPEC, spec),
  );
}

type Part<S> = S extends Schema<unknown> ? Infer<S> : undefined;

/** What a handler receives: its path parameters, query and body, validated. */
export interface InputOf<E extends EndpointSpec> {
  readonly params: Part<E['params']>;
  readonly query: Part<E['query']>;
  readonly body: Part<E['body']>;
}

interface RequestLike {
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
  headers?: Record<string, unknown>;
}

/** Validates a request against its endpoint's spec; throws a 400 naming every field that is wrong. */
export function validateRequest(spec: EndpointSpec, req: RequestLike): InputOf<EndpointSpec> {
  const issues: Issue[] = [];
  const params = spec.params ? parseWith(spec.params, req.params ?? {}, 'path', issues) : undefined;
  const query = spec.query
    ? parseWith(spec.query, flattenQuery(req.query ?? {}, issues), 'query', issues)
    : undefined;
  let body: unknown;
  if (spec.body) {
    const hasBody = req.body !== undefined && !(isEmptyObject(req.body) && !isJson(req));
    if (!hasBody && !spec.body.optional)
      issues.push({
        location: 'body',
        field: '',
        problem: 'is required (a JSON object, Content-Type: application/json)',
      });
    else body = parseWith(spec.body, hasBody ? req.body : undefined, 'body', issues);
  }
  if (issues.length > 0) {
    throw new ApiError(400, issues.map(issueText).join('; '), {
      issues: issues.map((i) => ({ location: i.location, field: i.field, problem: i.problem })),
    });
  }
  return { params, query, body };
}

function isEmptyObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}

function isJson(req: RequestLike): boolean {
  const type = req.headers?.['content-type'];
  return typeof type === 'string' && type.includes('json');
}

/** A query parameter given twice is an error rather than an array nobody expects. */
function flattenQuery(query: Record<string, unknown>, issues: Issue[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(query)) {
    if (Array.isArray(v)) issues.push({ location: 'query', field: k, problem: 'is given more than once' });
    else if (typeof v === 'object' && v !== null)
      issues.push({ location: 'query', field: k, problem: 'must be a single value' });
    else out[k] = v;
  }
  return out;
}

/** The handler parameter that receives the validated input of its endpoint. */
export const Input = createParamDecorator((_data: unknown, ctx: ExecutionContext) => {
  const spec = Reflect.getMetadata(ENDPOINT_SPEC, ctx.getHandler()) as EndpointSpec | undefined;
  if (spec === undefined) throw new Error(`@Input() on ${ctx.getHandler().name} without @Endpoint()`);
  return validateRequest(spec, ctx.switchToHttp().getRequest<RequestLike>());
});

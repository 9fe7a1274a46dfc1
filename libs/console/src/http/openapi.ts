import { ErrorBodySchema } from '../ops/views';
import { REASONS } from './api-error';
import { requiredRole, type EndpointSpec } from './endpoint';

const ERROR_REF = { $ref: '#/components/schemas/Error' };

/**
 * The OpenAPI 3.0 document of the given endpoints, from the same specs that validate requests.
 * With bearerAuth (the console's security is on), it declares the bearer scheme, and each
 * endpoint that needs a token says which role and answers 401 and 403.
 */
export function openApiDocument(
  endpoints: readonly EndpointSpec[],
  version: string,
  options: { bearerAuth?: boolean } = {},
): Record<string, unknown> {
  const bearerAuth = options.bearerAuth === true;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const e of [...endpoints].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const path = e.path.replace(/:([a-zA-Z]+)/g, '{$1}');
    const parameters = [
      ...Object.entries(e.params?.shape ?? {}).map(([name, s]) => ({
        name,
        in: 'path',
        required: true,
        description: s.description,
        schema: s.json(),
      })),
      ...Object.entries(e.query?.shape ?? {}).map(([name, s]) => ({
        name,
        in: 'query',
        required: !s.optional,
        description: s.description,
        schema: s.json(),
      })),
    ];
    const responses: Record<string, unknown> = {
      [e.status]: {
        description: e.responseDescription,
        ...(e.response
          ? { content: { 'application/json': { schema: e.response.json() } } }
          : e.produces
            ? { content: { [e.produces]: { schema: { type: 'string' } } } }
            : {}),
      },
    };
    const role = bearerAuth ? requiredRole(e) : 'public';
    const errors = new Set<number>([
      ...(e.params || e.query || e.body ? [400] : []),
      ...(role !== 'public' ? [401, 403] : []),
      ...(e.errors ?? []),
      500,
    ]);
    for (const status of [...errors].sort())
      responses[status] = {
        description: REASONS[status] ?? 'Error',
        content: { 'application/json': { schema: ERROR_REF } },
      };
    paths[path] ??= {};
    paths[path][e.method.toLowerCase()] = {
      tags: [e.tag],
      summary: e.summary,
      ...(e.description || role !== 'public'
        ? {
            description: [
              e.description,
              role !== 'public' ? `Needs a bearer token with the ${role} role or a stronger one.` : undefined,
            ]
              .filter((d) => d !== undefined)
              .join('\n\n'),
          }
        : {}),
      operationId: operationId(e),
      ...(role !== 'public' ? { security: [{ bearer: [] }], 'x-required-role': role } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(e.body
        ? {
            requestBody: {
              required: !e.body.optional,
              content: { 'application/json': { schema: e.body.json() } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Tributary console',
      version,
      description:
        'Operate every configured Kafka-compatible cluster: brokers, topics, consumer groups, records, mirror flows. Errors always have the Error shape; Kafka errors carry details.kafkaError.',
    },
    tags: [
      { name: 'clusters', description: 'Clusters, brokers and the topology' },
      { name: 'topics', description: 'Topics, configs, partitions and records' },
      { name: 'groups', description: 'Consumer groups, lag and offset resets' },
      { name: 'mirror', description: 'Mirror flows between clusters' },
      { name: 'health', description: 'Liveness and readiness' },
      { name: 'metrics', description: 'Prometheus metrics' },
    ],
    paths,
    components: {
      schemas: { Error: ErrorBodySchema.json() },
      ...(bearerAuth
        ? {
            securitySchemes: {
              bearer: {
                type: 'http',
                scheme: 'bearer',
                description:
                  'A token from the console config (security.tokens). Roles: viewer reads, operator also pauses, resumes and throttles flows and resets group offsets, admin may do everything.',
              },
            },
          }
        : {}),
    },
  };
}

function operationId(e: EndpointSpec): string {
  const words = e.path
    .split('/')
    .filter((w) => w !== '' && w !== 'api' && !w.startsWith(':'))
    .map((w) => w.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()));
  const name = words.map((w, i) => (i === 0 ? w : w[0].toUpperCase() + w.slice(1))).join('');
  const hasId = e.path.endsWith('}') || /:[a-zA-Z]+$/.test(e.path);
  return `${e.method.toLowerCase()}${name[0].toUpperCase()}${name.slice(1)}${hasId ? 'ById' : ''}`;
}

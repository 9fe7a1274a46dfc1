import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineEndpoint, validateRequest } from './endpoint';
import { ApiError } from './api-error';
import { openApiDocument } from './openapi';
import {
  array,
  boolean,
  integer,
  issueText,
  object,
  oneOf,
  optional,
  parseWith,
  record,
  string,
  timestamp,
  type Issue,
} from './schema';

const body = object({
  name: string({ minLength: 1 }),
  count: optional(integer({ min: 1, max: 10 }), 3),
  tags: optional(array(string(), { maxItems: 2 })),
  configs: optional(record(string())),
  mode: optional(oneOf(['a', 'b'] as const)),
  at: optional(timestamp()),
});

function issues(value: unknown, location: 'body' | 'query' = 'body'): string[] {
  const found: Issue[] = [];
  parseWith(body, value, location, found);
  return found.map(issueText);
}

test('valid input parses, with defaults for fields left out', () => {
  const found: Issue[] = [];
  const v = parseWith(
    body,
    { name: 'x', tags: ['a'], configs: { 'retention.ms': '1' }, at: '2024-05-01T12:00:00Z' },
    'body',
    found,
  );
  assert.deepEqual(found, []);
  assert.deepEqual(v, {
    name: 'x',
    count: 3,
    tags: ['a'],
    configs: { 'retention.ms': '1' },
    mode: undefined,
    at: Date.parse('2024-05-01T12:00:00Z'),
  });
});

test('every problem is named by its field, in the order of the input', () => {
  assert.deepEqual(
    issues({ nam: 'x', count: 0, tags: ['a', 'b', 'c'], mode: 'c', configs: { k: 1 }, at: 'soon' }),
    [
      'body.nam is not a known field (known: name, count, tags, configs, mode, at)',
      'body.name is required',
      'body.count must be an integer from 1 to 10, got 0',
      'body.tags must have at most 2 items, got 3',
      'body.configs.k must be a string, got 1',
      'body.mode must be one of a, b, got "c"',
      'body.at must be milliseconds since the epoch or an ISO-8601 date-time (2024-05-01T12:00:00Z), got "soon"',
    ],
  );
  assert.deepEqual(issues({ name: 'x', tags: [1] }), ['body.tags[0] must be a string, got 1']);
  assert.deepEqual(issues('text'), ['the request body must be an object, got "text"']);
  assert.deepEqual(issues({ name: '' }), ['body.name must not be empty']);
});

test('query values are text: integers and booleans parse from it, but only whole', () => {
  const q = object({ limit: optional(integer({ min: 1 }), 10), internal: optional(boolean(), false) });
  const found: Issue[] = [];
  assert.deepEqual(parseWith(q, { limit: '25', internal: 'true' }, 'query', found), {
    limit: 25,
    internal: true,
  });
  parseWith(q, { limit: '2.5', internal: '1' }, 'query', found);
  assert.deepEqual(found.map(issueText), [
    'query parameter limit must be an integer >= 1, got "2.5"',
    'query parameter internal must be true or false, got "1"',
  ]);
  const inBody: Issue[] = [];
  parseWith(object({ n: integer() }), { n: '3' }, 'body', inBody);
  assert.deepEqual(
    inBody.map(issueText),
    ['body.n must be an integer, got "3"'],
    'a JSON body must send numbers',
  );
});

test('a request is checked as a whole: path, query and body issues in one 400', () => {
  const spec = defineEndpoint({
    method: 'POST',
    path: '/api/things/:id',
    tag: 't',
    summary: 's',
    params: object({ id: integer({ min: 0 }) }),
    query: object({ dry: optional(boolean(), false) }),
    body: object({ name: string() }),
    status: 201,
    responseDescription: 'made',
  });
  assert.deepEqual(validateRequest(spec, { params: { id: '7' }, query: {}, body: { name: 'n' } }), {
    params: { id: 7 },
    query: { dry: false },
    body: { name: 'n' },
  });
  assert.throws(
    () =>
      validateRequest(spec, {
        params: { id: 'x' },
        query: { dry: ['1', '2'] },
        body: {},
        headers: { 'content-type': 'application/json' },
      }),
    (err: unknown) =>
      err instanceof ApiError &&
      err.status === 400 &&
      err.message ===
        'path parameter id must be an integer >= 0, got "x"; query parameter dry is given more than once; body.name is required',
  );
  const doc = openApiDocument([spec], '1') as {
    paths: Record<string, Record<string, Record<string, unknown>>>;
  };
  const op = doc.paths['/api/things/{id}'].post;
  assert.deepEqual(op.parameters, [
    {
      name: 'id',
      in: 'path',
      required: true,
      description: undefined,
      schema: { type: 'integer', format: 'int64', minimum: 0 },
    },
    {
      name: 'dry',
      in: 'query',
      required: false,
      description: undefined,
      schema: { type: 'boolean', default: false },
    },
  ]);
  assert.deepEqual(Object.keys(op.responses as object), ['201', '400', '500']);
  assert.deepEqual(
    (op.requestBody as { content: Record<string, { schema: unknown }> }).content['application/json'].schema,
    {
      type: 'object',
      properties: { name: { type: 'string' } },
      required: ['name'],
      additionalProperties: false,
    },
  );
});

test('an object without required fields declares no required list (OpenAPI 3.0 forbids an empty one)', () => {
  const patch = object({ set: optional(record(string())), delete: optional(array(string())) });
  assert.equal('required' in patch.json(), false);
  assert.deepEqual(object({ name: string() }).json().required, ['name']);
});

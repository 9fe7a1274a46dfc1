import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { stringify } from 'yaml';
import { Admin, Producer } from '@tributary/client';
import { startConsole, tokenSha256, type RunningConsole } from '@tributary/console';
import { MAIN, runAsync, startBroker, tempDir, type BrokerProcess } from '../support/broker-process';
import {
  apiClient,
  closedPort,
  cluster,
  flow,
  InMemoryFlows,
  startConsoleProcess,
  type ConsoleProcess,
} from './console-support';

/** A fresh random token per run: what an operator makes with `openssl rand -hex 32`. */
const newToken = () => crypto.randomBytes(32).toString('hex');

// `tributary console --config FILE` as a process, with a security section: an admin and an
// operator token given by their SHA-256 and a viewer token read from the environment; one
// broker process behind it. Every refusal is checked for "nothing changed", and the
// console's output for the tokens, which must never appear.
describe('console with bearer tokens: roles viewer, operator, admin', () => {
  const ADMIN = newToken();
  const OPERATOR = newToken();
  const VIEWER = newToken();
  const WRONG = newToken();
  let broker: BrokerProcess;
  let consoleProcess: ConsoleProcess;
  let url: string;
  let anonymous: ReturnType<typeof apiClient>;
  let viewer: ReturnType<typeof apiClient>;
  let operator: ReturnType<typeof apiClient>;
  let admin: ReturnType<typeof apiClient>;

  before(async () => {
    broker = await startBroker();
    const file = path.join(tempDir('console-auth'), 'console.yaml');
    fs.writeFileSync(
      file,
      stringify({
        http: { host: '127.0.0.1', port: 0 },
        clusters: [{ alias: 'local', 'bootstrap.servers': broker.bootstrap }],
        security: {
          tokens: [
            { name: 'ops-admin', role: 'admin', 'token.sha256': tokenSha256(ADMIN) },
            { name: 'ops-operator', role: 'operator', 'token.sha256': tokenSha256(OPERATOR) },
            { name: 'ci-viewer', role: 'viewer', 'token.env': 'CONSOLE_VIEWER_TOKEN' },
          ],
        },
      }),
    );
    consoleProcess = await startConsoleProcess(file, { CONSOLE_VIEWER_TOKEN: VIEWER });
    url = consoleProcess.url;
    anonymous = apiClient(url);
    viewer = apiClient(url, VIEWER);
    operator = apiClient(url, OPERATOR);
    admin = apiClient(url, ADMIN);
    // A group with a committed offset and no members, for the operator to reset.
    const a = new Admin({ bootstrapServers: broker.bootstrap });
    await a.createTopics([{ name: 'orders', numPartitions: 1 }]);
    const producer = new Producer({ bootstrapServers: broker.bootstrap });
    await producer.send({
      topic: 'orders',
      messages: Array.from({ length: 10 }, (_, i) => ({ value: `o${i}` })),
    });
    await producer.close();
    await a.resetOffsets('billing', [{ topic: 'orders', partition: 0 }], {
      offsets: [{ topic: 'orders', partition: 0, offset: 7 }],
    });
    await a.close();
  });

  after(async () => {
    await consoleProcess?.stop();
    await broker?.stop();
  });

  test('health, readiness, docs, the OpenAPI document and the dashboard stay open', async () => {
    assert.equal((await anonymous('GET', '/api/health')).status, 200);
    const ready = await anonymous('GET', '/api/ready');
    assert.deepEqual([ready.status, ready.body.status], [200, 'ready']);
    for (const p of ['/docs', '/', '/ui/api.js', '/ui/app.js'])
      assert.equal((await anonymous('GET', p)).status, 200, p);
    const doc = await anonymous('GET', '/openapi.json');
    assert.equal(doc.status, 200);
    await SwaggerParser.validate(structuredClone(doc.body));
    assert.deepEqual(
      { ...doc.body.components.securitySchemes.bearer, description: undefined },
      { type: 'http', scheme: 'bearer', description: undefined },
    );
    const listTopics = doc.body.paths['/api/clusters/{cluster}/topics'];
    assert.deepEqual(listTopics.get.security, [{ bearer: [] }]);
    assert.equal(listTopics.get['x-required-role'], 'viewer');
    assert.equal(listTopics.post['x-required-role'], 'admin');
    assert.ok(listTopics.post.responses['401'] && listTopics.post.responses['403']);
    assert.match(listTopics.post.description, /Needs a bearer token with the admin role/);
    const reset = doc.body.paths['/api/clusters/{cluster}/groups/{group}/reset-offsets'].post;
    assert.equal(reset['x-required-role'], 'operator');
    assert.equal(doc.body.paths['/metrics'].get['x-required-role'], 'viewer');
    const health = doc.body.paths['/api/health'].get;
    assert.equal(health.security, undefined);
    assert.equal(health.responses['401'], undefined);
  });

  test('no token, an unknown token or another scheme: 401 with WWW-Authenticate, in the one error shape', async () => {
    const none = await anonymous('GET', '/api/clusters');
    assert.equal(none.status, 401);
    assert.deepEqual(none.body, {
      statusCode: 401,
      error: 'Unauthorized',
      message: 'this console needs a bearer token: send Authorization: Bearer <token>',
      details: { requiredRole: 'viewer' },
    });
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="tributary-console"');
    const wrong = await apiClient(url, WRONG)('GET', '/api/clusters');
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.message, 'the bearer token is not one this console knows');
    assert.equal(
      wrong.headers.get('www-authenticate'),
      'Bearer realm="tributary-console", error="invalid_token"',
    );
    const basic = await fetch(`${url}/api/clusters`, {
      headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN}`).toString('base64')}` },
    });
    assert.equal(basic.status, 401);
    // A prefix of a good token is no token.
    assert.equal((await apiClient(url, ADMIN.slice(0, -1))('GET', '/api/clusters')).status, 401);
    const create = await anonymous('POST', '/api/clusters/local/topics', { name: 'sneaky' });
    assert.equal(create.status, 401);
    assert.equal((await admin('GET', '/api/clusters/local/topics/sneaky')).status, 404);
    // Unknown routes answer 404 only to a known token: without one, nobody maps the API by its 404s.
    const unrouted = await anonymous('GET', '/api/no-such-thing');
    assert.equal(unrouted.status, 401);
    assert.equal(unrouted.headers.get('www-authenticate'), 'Bearer realm="tributary-console"');
    const known = await viewer('DELETE', '/api/no-such-thing');
    assert.equal(known.status, 404);
    assert.equal(known.body.message, 'no route for DELETE /api/no-such-thing; see /docs for the API');
  });

  test('/metrics needs a token too', async () => {
    const none = await fetch(`${url}/metrics`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="tributary-console"');
    const scraped = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${VIEWER}` } });
    assert.equal(scraped.status, 200);
    assert.match(await scraped.text(), /^tributary_cluster_up\{cluster="local"\} 1$/m);
  });

  test('a viewer reads everything and changes nothing: 403 naming the role needed', async () => {
    const clusters = await viewer('GET', '/api/clusters');
    assert.deepEqual([clusters.status, clusters.body.items[0].reachable], [200, true]);
    assert.equal((await viewer('GET', '/api/clusters/local/topics/orders')).status, 200);
    assert.equal((await viewer('GET', '/api/clusters/local/groups/billing')).status, 200);
    const records = await viewer('GET', '/api/clusters/local/topics/orders/partitions/0/records?offset=0');
    assert.equal(records.status, 200);
    const create = await viewer('POST', '/api/clusters/local/topics', {
      name: 'viewers-topic',
      partitions: 2,
    });
    assert.equal(create.status, 403);
    assert.deepEqual(create.body, {
      statusCode: 403,
      error: 'Forbidden',
      message:
        'POST /api/clusters/local/topics needs the admin role; the token "ci-viewer" has the viewer role',
      details: { requiredRole: 'admin', role: 'viewer', token: 'ci-viewer' },
    });
    assert.equal((await admin('GET', '/api/clusters/local/topics/viewers-topic')).status, 404);
    const reset = await viewer('POST', '/api/clusters/local/groups/billing/reset-offsets', {
      to: 'earliest',
    });
    assert.equal(reset.status, 403);
    assert.equal(reset.body.details.requiredRole, 'operator');
    // Refused before the input is read: a viewer learns nothing from validation messages.
    assert.equal((await viewer('POST', '/api/clusters/local/topics', { name: 'bad name' })).status, 403);
    const group = await admin('GET', '/api/clusters/local/groups/billing');
    assert.equal(group.body.offsets[0].committedOffset, 7);
  });

  test('an operator resets group offsets but may not delete or create a topic; an admin may', async () => {
    const reset = await operator('POST', '/api/clusters/local/groups/billing/reset-offsets', {
      to: 'earliest',
    });
    assert.equal(reset.status, 200, JSON.stringify(reset.body));
    assert.deepEqual(
      reset.body.offsets.map((o: Record<string, unknown>) => [o.previousOffset, o.newOffset]),
      [[7, 0]],
    );
    assert.equal(
      (await viewer('GET', '/api/clusters/local/groups/billing')).body.offsets[0].committedOffset,
      0,
    );
    const del = await operator('DELETE', '/api/clusters/local/topics/orders');
    assert.equal(del.status, 403);
    assert.equal(
      del.body.message,
      'DELETE /api/clusters/local/topics/orders needs the admin role; the token "ops-operator" has the operator role',
    );
    assert.equal((await operator('GET', '/api/clusters/local/topics/orders')).status, 200);
    assert.equal((await operator('POST', '/api/clusters/local/topics', { name: 'ops-topic' })).status, 403);
    assert.equal((await operator('DELETE', '/api/clusters/local/groups/billing')).status, 403);
    assert.equal(
      (
        await operator('PATCH', '/api/clusters/local/topics/orders/configs', {
          set: { 'retention.ms': '1000' },
        })
      ).status,
      403,
    );

    const created = await admin('POST', '/api/clusters/local/topics', { name: 'admins-topic' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await admin('DELETE', '/api/clusters/local/topics/orders')).status, 204);
    assert.equal((await viewer('GET', '/api/clusters/local/topics/orders')).status, 404);
  });

  test('tributary mirror commands send TRIBUTARY_CONSOLE_TOKEN', async () => {
    const cli = (env: Record<string, string>) =>
      runAsync(process.execPath, [MAIN, 'mirror', 'list', '--console', url], {
        timeoutMs: 30000,
        env: { ...process.env, ...env },
      });
    const refused = await cli({ TRIBUTARY_CONSOLE_TOKEN: '' });
    assert.equal(refused.status, 1);
    assert.equal(
      refused.stderr,
      'tributary: 401 this console needs a bearer token: send Authorization: Bearer <token>\n',
    );
    const listed = await cli({ TRIBUTARY_CONSOLE_TOKEN: VIEWER });
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /no mirror is configured/);
  });

  test('the output names tokens, audits changes and refusals, and never shows a token', async () => {
    assert.equal(await consoleProcess.stop(), 0);
    const out = consoleProcess.output();
    assert.match(
      out,
      /console API needs a bearer token: ops-admin \(admin\), ops-operator \(operator\), ci-viewer \(viewer\)/,
    );
    assert.match(out, /ops-admin \(admin\): POST \/api\/clusters\/local\/topics/);
    assert.match(
      out,
      /ops-operator \(operator\): POST \/api\/clusters\/local\/groups\/billing\/reset-offsets/,
    );
    assert.match(
      out,
      /refused DELETE \/api\/clusters\/local\/topics\/orders to ops-operator \(operator\): needs admin/,
    );
    assert.match(out, /refused GET \/api\/clusters: no bearer token/);
    assert.match(out, /refused GET \/api\/clusters: a bearer token this console does not know/);
    assert.doesNotMatch(out, /Mapped \{|InstanceLoader/, 'Nest start-up chatter stays out');
    for (const [name, secret] of Object.entries({ ADMIN, OPERATOR, VIEWER, WRONG })) {
      assert.ok(!out.includes(secret), `${name}'s token is in the output`);
      assert.ok(!out.includes(tokenSha256(secret)), `${name}'s hash is in the output`);
    }
  });
});

// The operating actions on mirror flows, through the flow source interface held in memory.
describe('mirror flow actions need the operator role', () => {
  const OPERATOR = newToken();
  const VIEWER = newToken();
  const ADMIN = newToken();
  let c: RunningConsole;

  before(async () => {
    const nowhere = `127.0.0.1:${await closedPort()}`;
    const token = (name: string, role: 'viewer' | 'operator' | 'admin', value: string) => ({
      name,
      role,
      sha256: Buffer.from(tokenSha256(value), 'hex'),
    });
    c = await startConsole({
      clusters: [cluster('dc1-a', nowhere), cluster('dc1-agg', nowhere)],
      flows: new InMemoryFlows([flow('dc1-a', 'dc1-agg', 5)]),
      security: {
        tokens: [token('v', 'viewer', VIEWER), token('o', 'operator', OPERATOR), token('a', 'admin', ADMIN)],
      },
      host: '127.0.0.1',
      port: 0,
      logLevels: ['error'],
    });
  });

  after(async () => {
    await c?.close();
  });

  test('an operator pauses, resumes and throttles a flow; a viewer may only look', async () => {
    const id = encodeURIComponent('dc1-a->dc1-agg');
    const viewer = apiClient(c.url, VIEWER);
    const operator = apiClient(c.url, OPERATOR);
    assert.equal((await apiClient(c.url)('GET', '/api/flows')).status, 401);
    assert.equal((await viewer('GET', '/api/flows')).status, 200);
    const refused = await viewer('POST', `/api/flows/${id}/pause`);
    assert.equal(refused.status, 403);
    assert.equal(
      refused.body.message,
      `POST /api/flows/${id}/pause needs the operator role; the token "v" has the viewer role`,
    );
    assert.equal((await viewer('GET', `/api/flows/${id}`)).body.state, 'running');
    const paused = await operator('POST', `/api/flows/${id}/pause`);
    assert.deepEqual([paused.status, paused.body.state], [200, 'paused']);
    const throttled = await operator('POST', `/api/flows/${id}/throttle`, {
      recordsPerSecond: 100,
      bytesPerSecond: null,
    });
    assert.deepEqual(throttled.body.throttle, { recordsPerSecond: 100, bytesPerSecond: null });
    const resumed = await apiClient(c.url, ADMIN)('POST', `/api/flows/${id}/resume`);
    assert.deepEqual([resumed.status, resumed.body.state], [200, 'running']);
  });

  test('an address guessing tokens is answered 429 with Retry-After, right tokens included, until the minute is over', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++)
      statuses.push((await apiClient(c.url, newToken())('GET', '/api/flows')).status);
    assert.deepEqual(statuses, [...Array(10).fill(401), 429, 429]);
    const res = await fetch(`${c.url}/api/flows`, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(res.status, 429);
    const retryAfter = Number(res.headers.get('retry-after'));
    assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After: ${retryAfter}`);
    const body = (await res.json()) as { error: string; message: string };
    assert.equal(body.error, 'Too Many Requests');
    assert.match(body.message, /too many unknown bearer tokens from this address/);
    assert.equal((await apiClient(c.url)('GET', '/api/health')).status, 200, 'health stays open');
  });
});

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { tokenSha256 } from '../auth/bearer-tokens';
import {
  clientOptionsOf,
  ConsoleConfigError,
  DEFAULT_CLIENT_SETTINGS,
  parseConsoleConfig,
} from './console-config';

test('a console config: clusters with aliases, bootstrap servers, data centers and client settings', () => {
  const c = parseConsoleConfig(
    {
      http: { port: 9000 },
      clusters: [
        { alias: 'dc1-a', 'bootstrap.servers': '127.0.0.1:9092, 127.0.0.1:9093', datacenter: 'dc1' },
        {
          alias: 'dc2',
          'bootstrap.servers': ['[::1]:9094'],
          client: { 'client.id': 'ops', request: { timeout: { ms: '5000' } }, retries: 0 },
        },
      ],
    },
    'c.yaml',
  );
  assert.deepEqual(c.http, { host: '127.0.0.1', port: 9000 });
  assert.deepEqual(c.clusters[0], {
    alias: 'dc1-a',
    bootstrapServers: ['127.0.0.1:9092', '127.0.0.1:9093'],
    datacenter: 'dc1',
    client: DEFAULT_CLIENT_SETTINGS,
  });
  assert.deepEqual(c.clusters[1].client, {
    ...DEFAULT_CLIENT_SETTINGS,
    clientId: 'ops',
    requestTimeoutMs: 5000,
    retries: 0,
  });
  assert.deepEqual(c.clusters[1].bootstrapServers, ['[::1]:9094']);
});

test('mistakes name the file, the key and what is wrong', () => {
  const cases: [unknown, string][] = [
    [null, 'c.yaml: (top level) must be a map with http and clusters'],
    [{ clusters: [] }, 'c.yaml: clusters must list at least one cluster (alias and bootstrap.servers)'],
    [{ cluster: [] }, 'c.yaml: cluster is not a known key (known: http, clusters, security, mirror)'],
    [
      { http: { port: 70000 }, clusters: [{ alias: 'a', 'bootstrap.servers': 'h:1' }] },
      'c.yaml: http.port must be an integer from 0 to 65535, got 70000',
    ],
    [
      { http: { port: { number: 80 } }, clusters: [{ alias: 'a', 'bootstrap.servers': 'h:1' }] },
      'c.yaml: http.port must be an integer from 0 to 65535, got {"number":80}',
    ],
    [
      { clusters: [{ alias: 'a b', 'bootstrap.servers': 'h:1' }] },
      'c.yaml: clusters[0].alias must be a name of letters, digits, ".", "_" or "-" (at most 64), e.g. dc1-a',
    ],
    [{ clusters: [{ alias: 'a' }] }, 'c.yaml: clusters[0].bootstrap.servers is required'],
    [
      { clusters: [{ alias: 'a', 'bootstrap.servers': 'h:1,nohost' }] },
      'c.yaml: clusters[0].bootstrap.servers[1] must be host:port, got "nohost"',
    ],
    [
      { clusters: [{ alias: 'a', 'bootstrap.servers': 'h:1', dc: 'x' }] },
      'c.yaml: clusters[0].dc is not a known key (known: alias, bootstrap.servers, datacenter, client)',
    ],
    [
      { clusters: [{ alias: 'a', 'bootstrap.servers': 'h:1', client: { retries: -1 } }] },
      'c.yaml: clusters[0].client.retries must be an integer >= 0, got -1',
    ],
    [
      {
        clusters: [
          { alias: 'a', 'bootstrap.servers': 'h:1' },
          { alias: 'a', 'bootstrap.servers': 'h:2' },
        ],
      },
      'c.yaml: clusters[1].alias repeats "a"; aliases must be unique',
    ],
  ];
  for (const [doc, message] of cases) {
    assert.throws(
      () => parseConsoleConfig(doc, 'c.yaml'),
      (err: unknown) => err instanceof ConsoleConfigError && err.message === message,
      message,
    );
  }
});

const CLUSTERS = [{ alias: 'a', 'bootstrap.servers': 'h:1' }];
const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const VIEWER_TOKEN = 'viewer-token-fedcba9876543210';

/** Parses a document that must fail; returns the message. */
function failure(doc: unknown, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConsoleConfig(doc, 'c.yaml', { env });
  } catch (err) {
    assert.ok(err instanceof ConsoleConfigError, String(err));
    return err.message;
  }
  assert.fail(`parsed: ${JSON.stringify(doc)}`);
}

test('security: bearer tokens by SHA-256 or from the environment, each with a name and a role', () => {
  const c = parseConsoleConfig(
    {
      clusters: CLUSTERS,
      security: {
        tokens: [
          { name: 'ops-admin', role: 'admin', 'token.sha256': tokenSha256(ADMIN_TOKEN).toUpperCase() },
          { name: 'ci', role: 'viewer', token: { env: 'CI_TOKEN' } },
        ],
      },
    },
    'c.yaml',
    { env: { CI_TOKEN: VIEWER_TOKEN } },
  );
  assert.deepEqual(
    c.security?.tokens.map((t) => [t.name, t.role, t.sha256.toString('hex')]),
    [
      ['ops-admin', 'admin', crypto.createHash('sha256').update(ADMIN_TOKEN).digest('hex')],
      ['ci', 'viewer', tokenSha256(VIEWER_TOKEN)],
    ],
  );
  assert.equal(parseConsoleConfig({ clusters: CLUSTERS }, 'c.yaml').security, null);
  // Commands that only reach the clusters leave the tokens unread.
  const skipped = parseConsoleConfig(
    { clusters: CLUSTERS, security: { tokens: [{ name: 'ci', role: 'viewer', 'token.env': 'UNSET' }] } },
    'c.yaml',
    { env: {}, readTokens: false },
  );
  assert.equal(skipped.security, null);
});

test('security mistakes name the file and the key, and never quote a token', () => {
  const token = (entry: Record<string, unknown>) => ({ clusters: CLUSTERS, security: { tokens: [entry] } });
  const hash = tokenSha256(ADMIN_TOKEN);
  const cases: [unknown, string, NodeJS.ProcessEnv?][] = [
    [{ clusters: CLUSTERS, security: [] }, 'c.yaml: security must be a map with tokens'],
    [
      { clusters: CLUSTERS, security: { users: [] } },
      'c.yaml: security.users is not a known key (known: tokens)',
    ],
    [
      { clusters: CLUSTERS, security: { tokens: [] } },
      'c.yaml: security.tokens must list at least one token (name, role and token.sha256 or token.env)',
    ],
    [
      token({ name: 'x', role: 'superuser', 'token.sha256': hash }),
      'c.yaml: security.tokens[0].role must be viewer, operator or admin, got "superuser"',
    ],
    [
      token({ name: 'x', 'token.sha256': hash }),
      'c.yaml: security.tokens[0].role is required (viewer, operator, admin)',
    ],
    [
      token({ name: 'x', role: 'viewer' }),
      'c.yaml: security.tokens[0].token.sha256 is required (the SHA-256 of the token, 64 hex digits), or token.env (an environment variable holding the token)',
    ],
    [
      token({ name: 'x', role: 'viewer', 'token.sha256': hash, scope: 'all' }),
      'c.yaml: security.tokens[0].scope is not a known key (known: name, role, token.sha256, token.env)',
    ],
    [
      token({ name: 'x', role: 'viewer', token: ADMIN_TOKEN }),
      'c.yaml: security.tokens[0].token must not hold the token itself: give token.sha256 (the SHA-256 of the token, 64 hex digits) or token.env (an environment variable holding it)',
    ],
    [
      token({ name: 'x', role: 'viewer', 'token.sha256': ADMIN_TOKEN }),
      'c.yaml: security.tokens[0].token.sha256 must be 64 hex digits, the SHA-256 of the token (e.g. printf %s "$TOKEN" | sha256sum)',
    ],
    [
      token({ name: 'x', role: 'viewer', 'token.sha256': hash, 'token.env': 'T' }),
      'c.yaml: security.tokens[0].token.env cannot be given with token.sha256: give one',
    ],
    [
      token({ name: 'x', role: 'viewer', 'token.env': 'MISSING_TOKEN' }),
      'c.yaml: security.tokens[0].token.env names MISSING_TOKEN, which is not set',
    ],
    [
      token({ name: 'x', role: 'viewer', 'token.env': 'SHORT_TOKEN' }),
      'c.yaml: security.tokens[0].token.env names SHORT_TOKEN, whose value is not a usable token: it must be at least 16 characters of letters, digits and -._~+/ (e.g. openssl rand -hex 32)',
      { SHORT_TOKEN: 'secret-7' },
    ],
    [
      token({ name: 'has space', role: 'viewer', 'token.sha256': hash }),
      'c.yaml: security.tokens[0].name must be a name of letters, digits, ".", "_", "@" or "-" (at most 64), e.g. ops-alice',
    ],
    [
      {
        clusters: CLUSTERS,
        security: {
          tokens: [
            { name: 'a', role: 'viewer', 'token.sha256': hash },
            { name: 'a', role: 'admin', 'token.sha256': tokenSha256(VIEWER_TOKEN) },
          ],
        },
      },
      'c.yaml: security.tokens[1].name repeats "a"; names must be unique',
    ],
    [
      {
        clusters: CLUSTERS,
        security: {
          tokens: [
            { name: 'a', role: 'viewer', 'token.sha256': hash },
            { name: 'b', role: 'admin', 'token.env': 'SAME' },
          ],
        },
      },
      'c.yaml: security.tokens[1] has the same token as security.tokens[0]; each token must be different',
      { SAME: ADMIN_TOKEN },
    ],
  ];
  for (const [doc, message, env] of cases) {
    const got = failure(doc, env);
    assert.equal(got, message);
    assert.ok(!got.includes(ADMIN_TOKEN) && !got.includes('secret-7'), got);
  }
});

test("a cluster's client map reaches a secured cluster: security.protocol, sasl.* and ssl.* by librdkafka's names", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-console-config-'));
  const ca = path.join(dir, 'ca.pem');
  fs.writeFileSync(ca, 'not really a certificate');
  const c = parseConsoleConfig(
    {
      clusters: [
        {
          alias: 'secure',
          'bootstrap.servers': 'h:9093',
          client: {
            security: { protocol: 'SASL_SSL' },
            sasl: { mechanism: 'SCRAM-SHA-512', username: 'console', password: 'p4ssw0rd-secret' },
            'ssl.ca.location': ca,
            'ssl.endpoint.identification.algorithm': 'none',
            retries: 1,
          },
        },
        { alias: 'plain', 'bootstrap.servers': 'h:9092' },
      ],
    },
    'c.yaml',
  );
  const options = clientOptionsOf(c.clusters[0]);
  assert.deepEqual(options.sasl, {
    mechanism: 'SCRAM-SHA-512',
    username: 'console',
    password: 'p4ssw0rd-secret',
  });
  assert.ok(typeof options.ssl === 'object');
  assert.equal(String(options.ssl.ca), 'not really a certificate');
  assert.equal(typeof options.ssl.checkServerIdentity, 'function');
  assert.equal(options.retries, 1);
  const plain = clientOptionsOf(c.clusters[1]);
  assert.equal('ssl' in plain || 'sasl' in plain, false);

  const at = (client: Record<string, unknown>) => ({
    clusters: [{ alias: 'a', 'bootstrap.servers': 'h:1', client }],
  });
  const cases: [unknown, string][] = [
    [
      at({ 'security.protocol': 'KERBEROS' }),
      'c.yaml: clusters[0].client.security.protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, not "KERBEROS"',
    ],
    [
      at({ 'sasl.username': 'u', 'sasl.password': 'p4ssw0rd-secret' }),
      'c.yaml: clusters[0].client.sasl.username is set but security.protocol is PLAINTEXT',
    ],
    [
      at({ 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'SCRAM-SHA-256', 'sasl.username': 'u' }),
      'c.yaml: clusters[0].client.sasl.password is required with SASL_SSL',
    ],
    [
      at({ 'security.protocol': 'SASL_SSL', 'sasl.username': 'u', 'sasl.password': 12345678 }),
      'c.yaml: clusters[0].client.sasl.password must be a non-empty string',
    ],
    [
      at({ 'security.protocol': 'SSL', 'ssl.ca.location': path.join(dir, 'missing.pem') }),
      `c.yaml: clusters[0].client.ssl.ca.location cannot read ${path.join(dir, 'missing.pem')}: ENOENT`,
    ],
  ];
  for (const [doc, message] of cases) {
    const got = failure(doc);
    assert.ok(got.startsWith(message), `${got}\n  expected to start with ${message}`);
    assert.ok(!got.includes('p4ssw0rd-secret') && !got.includes('12345678'), got);
  }
});

test('a console attaches to mirror workers: a mirror section, or the workers’ mirror config itself', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-console-mirror-'));
  const mirrorFile = path.join(dir, 'mirror.yaml');
  const mirrorDoc = {
    redis: 'redis://127.0.0.1:6379',
    namespace: 'prod',
    clusters: {
      dc1: { 'bootstrap.servers': '127.0.0.1:9092', datacenter: 'dc1' },
      dc2: { 'bootstrap.servers': '127.0.0.1:9093' },
    },
    flows: [{ source: 'dc1', target: 'dc2' }],
    console: { port: 8090 },
  };
  fs.writeFileSync(mirrorFile, JSON.stringify(mirrorDoc));
  const clusters = [{ alias: 'dc1', 'bootstrap.servers': '127.0.0.1:9092' }];

  const bySection = parseConsoleConfig({ clusters, mirror: mirrorFile }, 'c.yaml');
  assert.deepEqual(bySection.mirror?.redis, { url: 'redis://127.0.0.1:6379' });
  assert.deepEqual(
    bySection.mirror?.config.flows.map((f) => f.name),
    ['dc1->dc2'],
  );
  const withRedis = parseConsoleConfig(
    { clusters, mirror: { config: mirrorFile, redis: 'redis://10.0.0.1:6380' } },
    'c.yaml',
  );
  assert.deepEqual(withRedis.mirror?.redis, { url: 'redis://10.0.0.1:6380' });
  const withSentinels = parseConsoleConfig(
    {
      clusters,
      mirror: { config: mirrorFile, redis: { sentinels: ['10.0.0.1:26379'], sentinel: { master: 'm' } } },
    },
    'c.yaml',
  );
  assert.deepEqual(withSentinels.mirror?.redis, {
    sentinels: [{ host: '10.0.0.1', port: 26379 }],
    master: 'm',
    password: null,
    sentinelPassword: null,
  });

  const itself = parseConsoleConfig(mirrorDoc, 'mirror.yaml');
  assert.deepEqual(
    itself.clusters.map((c) => [c.alias, c.bootstrapServers, c.datacenter]),
    [
      ['dc1', ['127.0.0.1:9092'], 'dc1'],
      ['dc2', ['127.0.0.1:9093'], null],
    ],
  );
  assert.deepEqual(itself.http, { host: '127.0.0.1', port: 8090 });
  assert.equal(itself.mirror?.config.namespace, 'prod');

  const noRedis = path.join(dir, 'no-redis.yaml');
  fs.writeFileSync(noRedis, JSON.stringify({ ...mirrorDoc, redis: undefined }));
  for (const [doc, message] of [
    [{ clusters, mirror: noRedis }, /c\.yaml: mirror\.redis is required: .*no-redis\.yaml has no redis/],
    [
      { clusters, mirror: { config: mirrorFile, redis: 'http://x' } },
      /c\.yaml: mirror\.redis must be a redis:\/\/ or rediss:\/\/ URL/,
    ],
    [
      { clusters, mirror: { config: mirrorFile, redis: { sentinels: ['10.0.0.1:26379'] } } },
      /c\.yaml: mirror\.redis\.sentinel\.master is required with sentinels/,
    ],
    [
      { clusters, mirror: { file: mirrorFile } },
      /c\.yaml: mirror\.file is not a known key \(known: config, redis\)/,
    ],
    [
      { clusters, mirror: path.join(dir, 'missing.yaml') },
      /c\.yaml: mirror\.config names a mirror config that is not valid: .*missing\.yaml: \(file\): cannot be read/,
    ],
  ] as const) {
    assert.throws(
      () => parseConsoleConfig(doc, 'c.yaml'),
      (err: unknown) => err instanceof ConsoleConfigError && message.test(err.message),
    );
  }
});

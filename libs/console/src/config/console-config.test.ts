import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConsoleConfigError, DEFAULT_CLIENT_SETTINGS, parseConsoleConfig } from './console-config';

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
    [{ cluster: [] }, 'c.yaml: cluster is not a known key (known: http, clusters)'],
    [
      { http: { port: 70000 }, clusters: [{ alias: 'a', 'bootstrap.servers': 'h:1' }] },
      'c.yaml: http.port must be an integer from 0 to 65535, got 70000',
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

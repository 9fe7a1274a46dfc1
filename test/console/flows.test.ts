import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startConsole, type FlowSummary, type RunningConsole } from '@tributary/console';
import { apiClient, closedPort, cluster, flow, InMemoryFlows } from './console-support';

describe('mirror flows through the flow source interface', () => {
  let c: RunningConsole;
  let api: ReturnType<typeof apiClient>;

  before(async () => {
    const nowhere = `127.0.0.1:${await closedPort()}`;
    c = await startConsole({
      clusters: ['dc1-a', 'dc1-b', 'dc1-agg', 'dc2'].map((a) =>
        cluster(a, nowhere, a.startsWith('dc1') ? 'dc1' : 'dc2'),
      ),
      flows: new InMemoryFlows([
        flow('dc1-a', 'dc1-agg', 5),
        flow('dc1-b', 'dc1-agg', 0),
        flow('dc1-agg', 'dc2', 12),
      ]),
      host: '127.0.0.1',
      port: 0,
      logLevels: ['error'],
    });
    api = apiClient(c.url);
  });

  after(async () => {
    await c?.close();
  });

  test('flows are listed and described; pause, resume and throttle change them', async () => {
    const list = await api('GET', '/api/flows');
    assert.deepEqual(list.body.mirror, { configured: true, provider: 'test', message: null });
    assert.deepEqual(
      list.body.items.map((f: FlowSummary) => [f.id, f.state, f.lagRecords]),
      [
        ['dc1-a->dc1-agg', 'running', 5],
        ['dc1-b->dc1-agg', 'running', 0],
        ['dc1-agg->dc2', 'running', 12],
      ],
    );
    const detail = await api('GET', `/api/flows/${encodeURIComponent('dc1-agg->dc2')}`);
    assert.equal(detail.status, 200);
    assert.equal(detail.body.partitions[0].targetTopic, 'dc1-agg.orders');
    const paused = await api('POST', `/api/flows/${encodeURIComponent('dc1-a->dc1-agg')}/pause`);
    assert.deepEqual([paused.status, paused.body.state], [200, 'paused']);
    const resumed = await api('POST', `/api/flows/${encodeURIComponent('dc1-a->dc1-agg')}/resume`);
    assert.equal(resumed.body.state, 'running');
    const throttled = await api('POST', `/api/flows/${encodeURIComponent('dc1-a->dc1-agg')}/throttle`, {
      recordsPerSecond: 500,
      bytesPerSecond: null,
    });
    assert.deepEqual(throttled.body.throttle, { recordsPerSecond: 500, bytesPerSecond: null });
    const missing = await api('POST', '/api/flows/nope/pause');
    assert.deepEqual(missing.body.message, 'flow "nope" does not exist');
    assert.equal(missing.status, 404);
  });

  test('the topology links clusters along the flows', async () => {
    const t = await api('GET', '/api/topology');
    assert.deepEqual(
      t.body.links.map((l: { source: string; target: string }) => `${l.source}->${l.target}`),
      ['dc1-a->dc1-agg', 'dc1-b->dc1-agg', 'dc1-agg->dc2'],
    );
    assert.equal(t.body.mirror.configured, true);
  });

  test('/metrics carries mirror lag and latency per flow', async () => {
    const text = await (await fetch(`${c.url}/metrics`)).text();
    assert.match(text, /^tributary_mirror_configured 1$/m);
    assert.match(
      text,
      /^tributary_mirror_lag_records\{flow="dc1-agg->dc2",source="dc1-agg",target="dc2",topic="orders",partition="0"\} 12$/m,
    );
    assert.match(text, /^tributary_mirror_lag_seconds\{flow="dc1-agg->dc2",.*\} 1\.2$/m);
    assert.match(text, /^tributary_mirror_replication_latency_seconds\{flow="dc1-a->dc1-agg",.*\} 0\.04$/m);
    assert.match(
      text,
      /^tributary_mirror_last_checkpoint_timestamp_seconds\{flow="dc1-b->dc1-agg",.*\} 1700000000$/m,
    );
    assert.match(text, /^tributary_cluster_up\{cluster="dc2"\} 0$/m);
  });
});

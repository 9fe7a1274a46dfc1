import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMirrorConfig } from './config';
import { mirrorPath, shouldMirror, targetTopic } from './policy';
import { lastOrigin, originHeader, parseOrigin, passedThrough } from './provenance';

const clusters = { dc1: { 'bootstrap.servers': 'h:1' }, dc2: { 'bootstrap.servers': 'h:2' } };
const flow = (extra: Record<string, unknown> = {}) =>
  parseMirrorConfig({ clusters, flows: [{ source: 'dc1', target: 'dc2', ...extra }] }, 'f.yaml').flows[0];

test('prefix policy renames with the source alias; identity keeps the name', () => {
  assert.equal(targetTopic(flow(), 'orders'), 'dc1.orders');
  assert.equal(targetTopic(flow({ 'replication.policy.separator': '_' }), 'orders'), 'dc1_orders');
  assert.equal(targetTopic(flow({ 'replication.policy': 'identity' }), 'orders'), 'orders');
});

test('cycles are refused by name (prefix) and by provenance (any policy)', () => {
  const f = flow();
  assert.equal(shouldMirror(f, 'orders', []), null);
  assert.match(shouldMirror(f, 'dc2.orders', []) ?? '', /cycle/);
  assert.match(
    shouldMirror(flow({ 'replication.policy': 'identity' }), 'orders', ['dc2']) ?? '',
    /already passed through dc2/,
  );
  assert.match(shouldMirror(f, 'x.orders', ['dc0', 'dc2', 'x']) ?? '', /already passed through dc2/);
  assert.deepEqual(mirrorPath(f, ['dc0']), ['dc0', 'dc1']);
});

test('internal topics and excludes are skipped, heartbeats are always mirrored', () => {
  const f = flow({ topics: 'orders' });
  assert.match(shouldMirror(f, 'payments', []) ?? '', /not matched/);
  assert.match(shouldMirror(flow(), '__consumer_offsets', []) ?? '', /exclude/);
  assert.match(shouldMirror(flow(), 'dc1.checkpoints.internal', []) ?? '', /internal|exclude/);
  assert.equal(shouldMirror(f, 'heartbeats', []), null);
});

test('provenance headers round-trip and tell which clusters a record passed', () => {
  const h1 = originHeader({ cluster: 'dc1', topic: 'a:b', partition: 3, offset: 42 });
  assert.equal(h1.value?.toString(), 'dc1:a:b:3:42');
  assert.deepEqual(parseOrigin(h1.value), { cluster: 'dc1', topic: 'a:b', partition: 3, offset: 42 });
  const h2 = originHeader({ cluster: 'dc2', topic: 'dc1.x', partition: 0, offset: 7 });
  const headers = [{ key: 'app', value: Buffer.from('v') }, h1, h2];
  assert.deepEqual(passedThrough(headers), ['dc1', 'dc2']);
  assert.equal(lastOrigin(headers)?.cluster, 'dc2');
  assert.equal(parseOrigin(Buffer.from('garbage')), null);
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CLUSTER_KEYS } from './cluster-keys';
import { SCRIPTS } from './scripts';

const ROOT = process.env.TRIBUTARY_ROOT ?? path.resolve(__dirname, '..', '..', '..', '..', '..');

/** Each key of the table with its parameters named as docs/architecture.md names them. */
const RENDERED: Record<keyof typeof CLUSTER_KEYS, readonly (string | number)[]> = {
  cluster: CLUSTER_KEYS.cluster(),
  brokers: CLUSTER_KEYS.brokers(),
  broker: CLUSTER_KEYS.broker('<n>'),
  controller: CLUSTER_KEYS.controller(),
  controllerEpoch: CLUSTER_KEYS.controllerEpoch(),
  controllerIncarnations: CLUSTER_KEYS.controllerIncarnations(),
  topics: CLUSTER_KEYS.topics(),
  topic: CLUSTER_KEYS.topic('<t>'),
  partitions: CLUSTER_KEYS.partitions('<t>'),
  deletedTopics: CLUSTER_KEYS.deletedTopics(),
  producerIds: CLUSTER_KEYS.producerIds(),
  acls: CLUSTER_KEYS.acls(),
  scramCredentials: CLUSTER_KEYS.scramCredentials(),
  brokerConfigs: CLUSTER_KEYS.brokerConfigs(),
  clientQuotas: CLUSTER_KEYS.clientQuotas(),
  clientQuotasVersion: CLUSTER_KEYS.clientQuotasVersion(),
  changes: CLUSTER_KEYS.changes(),
  barrier: CLUSTER_KEYS.barrier(),
};

test('docs/architecture.md lists exactly the cluster’s Redis keys', () => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const documented = [...doc.matchAll(/^ tributary:\{id\}:(\S+)/gm)].map((m) => m[1]).sort();
  const table = Object.values(RENDERED)
    .map((parts) => parts.join(':'))
    .sort();
  assert.deepEqual(documented, table);
});

test('every Lua script file is declared in SCRIPTS with as many KEYS as its name says, and back', () => {
  const dir = path.join(ROOT, 'libs', 'cluster', 'src', 'redis', 'scripts');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.lua'));
  const declared = Object.values(SCRIPTS).map((s) => `${s.name}-${s.keys.length}.lua`);
  assert.deepEqual(declared.sort(), files.sort());
  for (const s of Object.values(SCRIPTS))
    for (const k of s.keys) assert.ok(k in CLUSTER_KEYS, `${s.name} names a key CLUSTER_KEYS lacks: ${k}`);
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { defineApi, defineMessage, type ApiDefinition } from '@tributary/protocol';
import {
  applyAllowList,
  checkConformance,
  compareApi,
  compareMessage,
  parseKafkaSpec,
  readAllowList,
  type Difference,
  type KafkaSpec,
} from './conformance';

// A made-up API in Kafka's JSON notation (comments included, as Kafka writes them), and our
// definition of it; each test breaks the definition in one way and expects that reported.
const REQUEST = parseKafkaSpec(`{
  "apiKey": 900,
  "type": "request",
  "name": "WidgetRequest",
  // Version 2 is the first flexible version.
  "validVersions": "0-3",
  "flexibleVersions": "2+",
  "fields": [
    { "name": "ClusterId", "type": "string", "versions": "2+", "nullableVersions": "2+",
      "taggedVersions": "2+", "tag": 0, "default": "null", "about": "see http://example.com" },
    { "name": "TimeoutMs", "type": "int32", "versions": "0+", "default": "60000" },
    { "name": "Topics", "type": "[]WidgetTopic", "versions": "0+", "fields": [
      { "name": "Name", "type": "string", "versions": "0+", "nullableVersions": "1+" },
      { "name": "Partitions", "type": "[]int32", "versions": "0+" },
      { "name": "Owner", "type": "Owner", "versions": "1+" }
    ]}
  ],
  "commonStructs": [
    { "name": "Owner", "versions": "0+", "fields": [
      { "name": "OwnerId", "type": "int32", "versions": "0+", "default": "-1" }
    ]}
  ]
}`);

const RESPONSE = parseKafkaSpec(`{
  "apiKey": 900,
  "type": "response",
  "name": "WidgetResponse",
  "validVersions": "0-3",
  "flexibleVersions": "2+",
  "fields": [
    { "name": "ThrottleTimeMs", "type": "int32", "versions": "0+" },
    { "name": "ErrorCode", "type": "int16", "versions": "0+" },
    { "name": "ErrorMessage", "type": "string", "versions": "1+", "nullableVersions": "1+" },
    { "name": "LeaderEpoch", "type": "int32", "versions": "3+", "taggedVersions": "3+", "tag": 1,
      "default": "-1" }
  ]
}`);

const Widget = defineApi({
  apiKey: 900,
  name: 'Widget',
  versions: '1-3',
  flexibleVersions: '2+',
  request: {
    clusterId: {
      type: 'string',
      versions: '2+',
      nullable: '2+',
      tag: 0,
      taggedVersions: '2+',
      default: null,
    },
    timeoutMs: { type: 'int32', default: 60000 },
    topics: {
      type: 'struct[]',
      fields: {
        name: { type: 'string', nullable: '1+' },
        partitions: 'int32[]',
        owner: { type: 'struct', versions: '1+', fields: { ownerId: { type: 'int32', default: -1 } } },
      },
    },
  },
  response: {
    throttleTimeMs: 'int32',
    errorCode: 'int16',
    errorMessage: { type: 'string', versions: '1+', nullable: '1+' },
    leaderEpoch: { type: 'int32', versions: '3+', tag: 1, taggedVersions: '3+', default: -1 },
  },
});

/** A copy of Widget with values set at dotted paths ("request.timeoutMs.default"); undefined deletes. */
function broken(edits: Record<string, unknown>): ApiDefinition {
  const copy = structuredClone(Widget) as unknown as Record<string, unknown>;
  for (const [at, value] of Object.entries(edits)) {
    const keys = at.split('.');
    const last = keys.pop() as string;
    let node = copy;
    for (const key of keys) {
      if (typeof node[key] === 'string') node[key] = { type: node[key] };
      node = node[key] as Record<string, unknown>;
    }
    if (value === undefined) delete node[last];
    else node[last] = value;
  }
  return copy as unknown as ApiDefinition;
}

function differences(api: ApiDefinition): Difference[] {
  return compareApi(api, REQUEST, RESPONSE);
}

function only(api: ApiDefinition): Difference {
  const found = differences(api);
  assert.equal(found.length, 1, JSON.stringify(found, null, 2));
  return found[0];
}

test('a definition that matches Kafka, on a subset of its versions, has no differences', () => {
  assert.deepEqual(differences(Widget), []);
});

test('a wrong nullable version is reported with the versions that differ', () => {
  const d = only(broken({ 'request.topics.fields.name.nullable': '2+' }));
  assert.deepEqual(
    { api: d.api, path: d.path, what: d.what },
    { api: 'Widget', path: 'request.topics[].name', what: 'nullable' },
  );
  assert.match(d.detail, /nullable in v2-3, Kafka in v1-3/);
});

test('a missing field is reported, and so is an extra one', () => {
  const missing = only(broken({ 'response.errorCode': undefined }));
  assert.deepEqual(
    { api: missing.api, path: missing.path, what: missing.what },
    { api: 'Widget', path: 'response.errorCode', what: 'missing' },
  );
  assert.match(missing.detail, /Kafka has int16 in v1-3/);

  const extra = only(
    broken({ 'request.topics.fields.owner.fields.ownerName': { type: 'string', versions: '3+' } }),
  );
  assert.equal(extra.what, 'extra');
  assert.equal(extra.path, 'request.topics[].owner.ownerName');
  assert.match(extra.detail, /ours has it in v3/);
});

test('a wrong tag, and a field left in place where Kafka tags it, are reported', () => {
  const wrongTag = only(broken({ 'request.clusterId.tag': 1 }));
  assert.equal(wrongTag.what, 'tag');
  assert.equal(wrongTag.path, 'request.clusterId');
  assert.match(wrongTag.detail, /tag 1 in v2-3; Kafka tag 0 in v2-3/);

  const untagged = only(broken({ 'response.leaderEpoch.tag': undefined }));
  assert.equal(untagged.what, 'tag');
  assert.match(untagged.detail, /untagged in v3; Kafka tag 1 in v3/);
});

test('version ranges, types, order, defaults and flexible versions are compared', () => {
  const versions = only(broken({ 'response.errorMessage.versions': '2+' }));
  assert.equal(versions.what, 'versions');
  assert.match(versions.detail, /present in v2-3, Kafka in v1-3/);

  const type = only(broken({ 'response.errorCode': 'int32' }));
  assert.equal(type.what, 'type');
  assert.match(type.detail, /int32, Kafka int16/);

  const { throttleTimeMs, ...rest } = Widget.response;
  const order = only(broken({ response: { ...rest, throttleTimeMs } }));
  assert.equal(order.what, 'order');
  assert.equal(order.path, 'response');
  assert.match(order.detail, /in v1-3: ours errorCode, .*throttleTimeMs; Kafka throttleTimeMs, errorCode/);

  const dflt = only(broken({ 'request.topics.fields.owner.fields.ownerId': 'int32' }));
  assert.equal(dflt.what, 'default');
  assert.equal(dflt.path, 'request.topics[].owner.ownerId');
  assert.match(dflt.detail, /0 in v1-3, Kafka -1/);

  const flexible = differences(broken({ flexibleVersions: '3+' }));
  assert.deepEqual(
    flexible.map((d) => `${d.path}:${d.what}`),
    [':flexibleVersions', ':flexibleVersions'],
  );
  assert.match(flexible[0].detail, /flexible 3\+, Kafka's WidgetRequest 2\+ \(differ in v2\)/);

  const valid = differences(broken({ versions: '1-4' }));
  assert.deepEqual(
    valid.map((d) => d.what),
    ['validVersions', 'validVersions'],
  );
  assert.match(valid[0].detail, /implements v4, outside Kafka's WidgetRequest 0-3/);
});

test('a nullable string without a default is null to us and empty to Kafka: harmless unless tagged', () => {
  const noDefault = { type: 'string', versions: '1+', nullable: '1+' };
  assert.deepEqual(differences(broken({ 'response.errorMessage': noDefault })), []);
  const tagged = only(broken({ 'request.clusterId.default': undefined }));
  assert.equal(tagged.what, 'default');
});

test('an API or message Kafka has no schema for is reported', () => {
  const found = checkConformance(
    [broken({ apiKey: 10000 })],
    [defineMessage({ name: 'Gadget', versions: '0', flexibleVersions: 'none', fields: {} })],
    [REQUEST, RESPONSE],
  );
  assert.deepEqual(
    found.map((d) => `${d.api}:${d.what}`),
    ['Widget:schema', 'Gadget:schema'],
  );
});

test('messages compare against Kafka data files', () => {
  const spec: KafkaSpec = parseKafkaSpec(`{
    "type": "data", "name": "Gadget", "validVersions": "0-1", "flexibleVersions": "none",
    "fields": [ { "name": "UserData", "type": "bytes", "versions": "0+", "nullableVersions": "0+", "default": "null" } ]
  }`);
  const ok = defineMessage({
    name: 'Gadget',
    versions: '0-1',
    flexibleVersions: 'none',
    fields: { userData: { type: 'bytes', nullable: '0+', default: null } },
  });
  assert.deepEqual(compareMessage(ok, spec), []);
  const wrong = compareMessage({ ...ok, fields: { userData: { type: 'bytes' } } }, spec);
  assert.deepEqual(
    wrong.map((d) => `${d.path}:${d.what}`),
    ['userData:nullable', 'userData:default'],
  );
});

test('the allow-list excuses a listed difference, and an entry that matches nothing is stale', () => {
  const found = differences(broken({ 'request.topics.fields.name.nullable': '2+' }));
  const verdict = applyAllowList(found, [
    { api: 'Widget', path: 'request.topics[].name', what: 'nullable', reason: 'testing' },
    { api: 'Widget', path: 'request.timeoutMs', what: 'default', reason: 'no longer differs' },
  ]);
  assert.deepEqual(verdict.failures, []);
  assert.equal(verdict.allowed.length, 1);
  assert.deepEqual(
    verdict.unused.map((e) => e.path),
    ['request.timeoutMs'],
  );
  assert.equal(applyAllowList(found, []).failures.length, 1);
});

test('an allow-list entry must say why', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'allow-'));
  const file = path.join(dir, 'allow.json');
  fs.writeFileSync(
    file,
    JSON.stringify({ allow: [{ api: 'Widget', path: '', what: 'schema', reason: ' ' }] }),
  );
  assert.throws(() => readAllowList(file), /allow\[0\]: "reason" must say why/);
  fs.writeFileSync(
    file,
    JSON.stringify({ allow: [{ api: 'Widget', path: '', what: 'colour', reason: 'x' }] }),
  );
  assert.throws(() => readAllowList(file), /allow\[0\]: "what" must be one of/);
  fs.rmSync(dir, { recursive: true });
});

test('the command fails on differences and on bad arguments', () => {
  const script = path.join(__dirname, 'check-protocol.js');
  const run = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-messages-'));
  fs.writeFileSync(path.join(dir, 'WidgetRequest.json'), JSON.stringify(REQUEST));
  const differs = run(dir);
  assert.equal(differs.status, 1, differs.stderr);
  assert.match(differs.stderr, /DIFFERS: Produce: schema: Kafka has no API key 0/);
  assert.doesNotMatch(differs.stderr, /MirrorProduce/);

  const allowList = path.join(dir, 'allow.json');
  fs.writeFileSync(allowList, JSON.stringify({ allow: [] }));
  assert.match(run(dir, '--allow-list', allowList).stderr, /DIFFERS: MirrorProduce: schema/);

  const missing = run();
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /missing DIR\nusage: npm run check:protocol -- DIR/);
  const notDir = run(path.join(dir, 'WidgetRequest.json'));
  assert.equal(notDir.status, 2);
  assert.match(notDir.stderr, /is not a directory/);
  fs.rmSync(dir, { recursive: true });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MirrorConfigError, parseMirrorConfig } from './config';

const clusters = {
  a: { 'bootstrap.servers': '127.0.0.1:9092' },
  b: { 'bootstrap.servers': '127.0.0.1:9093' },
};
const redisOf = (redis: unknown) => parseMirrorConfig({ redis, clusters }, 'm.yaml').redis;

test('redis is a URL, or sentinels with the name of the primary they monitor', () => {
  assert.deepEqual(redisOf('redis://127.0.0.1:6379'), { url: 'redis://127.0.0.1:6379' });
  assert.deepEqual(redisOf({ url: 'rediss://r:6380' }), { url: 'rediss://r:6380' });
  const expected = {
    sentinels: [
      { host: 's1', port: 26379 },
      { host: 's2', port: 26379 },
    ],
    master: 'tributary',
    password: null,
    sentinelPassword: 'sp',
  };
  assert.deepEqual(
    redisOf({ sentinels: ['s1:26379', 's2:26379'], sentinel: { master: 'tributary', password: 'sp' } }),
    expected,
  );
  assert.deepEqual(
    redisOf({ sentinels: 's1:26379, s2:26379', 'sentinel.master': 'tributary', 'sentinel.password': 'sp' }),
    expected,
  );
});

test('a bad redis setting names the file and the key', () => {
  const cases: [unknown, string][] = [
    ['localhost:6379', 'm.yaml: redis: must be a redis:// or rediss:// URL, not "localhost:6379"'],
    [42, 'm.yaml: redis: must be a redis:// URL, or a map with sentinels and sentinel.master'],
    [{ sentinels: ['s1:26379'] }, 'm.yaml: redis.sentinel.master: is required with sentinels'],
    [
      { sentinel: { master: 'm' } },
      'm.yaml: redis.sentinels: is required (a list of HOST:PORT), or give url',
    ],
    [{ sentinels: ['s1'], 'sentinel.master': 'm' }, 'm.yaml: redis.sentinels: must list HOST:PORT, not "s1"'],
    [
      { sentinels: ['s1:1'], 'sentinel.master': 'm', master: 'x' },
      'm.yaml: redis.master: is not a known key',
    ],
    [{ url: 'redis://a:1', sentinels: ['s1:1'] }, 'm.yaml: redis.sentinels: cannot go with url'],
  ];
  for (const [redis, message] of cases) {
    assert.throws(
      () => redisOf(redis),
      (err: Error) => err instanceof MirrorConfigError && err.message.startsWith(message),
      `${JSON.stringify(redis)} -> ${message}`,
    );
  }
});

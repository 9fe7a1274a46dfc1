import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DescribeLogDirs, Metadata } from '@tributary/protocol';
import type { ApiHandler } from '../handlers/handler';
import { RequestRouter } from './request-router';

const logger = { warn: () => undefined, error: () => undefined };
const handlerOf = (api: typeof Metadata | typeof DescribeLogDirs) =>
  ({ api, handle: () => ({}) }) as unknown as ApiHandler;

test('ApiVersions advertises exactly the registered APIs with their version ranges', () => {
  const router = new RequestRouter(logger).register(handlerOf(DescribeLogDirs)).register(handlerOf(Metadata));
  assert.deepEqual(
    router.advertisedApis().map((a) => a.apiKey),
    [Metadata.apiKey, DescribeLogDirs.apiKey],
  );
});

test('a second handler for one API is refused instead of silently replacing the first', () => {
  const router = new RequestRouter(logger).register(handlerOf(DescribeLogDirs));
  assert.throws(
    () => router.register(handlerOf(DescribeLogDirs)),
    /DescribeLogDirs \(key 35\) has two handlers/,
  );
});

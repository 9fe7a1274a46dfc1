import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { LocalProducerIdManager, producerIdBase } from './producer-id-manager';

const dir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-pid-'));

test('each cluster hands out producer ids from a range of its own, above the ids Kafka uses', async () => {
  const bases = new Set(['dc1-a', 'dc1-b', 'dc2', 'x', 'Y2xhc3RlcnM'].map(producerIdBase));
  assert.equal(bases.size, 5);
  for (const base of bases) {
    assert.ok(base >= 2 ** 32 && base % 2 ** 32 === 0, `${base}`);
    assert.ok(Number.isSafeInteger(base + 2 ** 32 - 1), 'the range ends below 2^53');
  }
  const a = new LocalProducerIdManager(dir(), 1, producerIdBase('dc1-a'));
  const b = new LocalProducerIdManager(dir(), 1, producerIdBase('dc2'));
  const first = await a.generateProducerId();
  assert.equal(first, producerIdBase('dc1-a'));
  assert.notEqual(await b.generateProducerId(), first);
});

test('ids continue after the last reserved block across a restart, never reused', async () => {
  const d = dir();
  const base = producerIdBase('c');
  const before = new LocalProducerIdManager(d, 1, base, 10);
  const seen = [];
  for (let i = 0; i < 12; i++) seen.push(await before.generateProducerId());
  const after = new LocalProducerIdManager(d, 1, base, 10);
  const next = await after.generateProducerId();
  assert.equal(next, base + 20, 'the rest of the block in use is skipped');
  assert.ok(!seen.includes(next));
});

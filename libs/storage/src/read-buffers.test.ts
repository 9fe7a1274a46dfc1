import assert from 'node:assert/strict';
import { test } from 'node:test';
import { giveReadBuffer, takeReadBuffer } from './read-buffers';

test('a read buffer given back serves the next read of its size class; one still out does not', () => {
  const a = takeReadBuffer(1_000_000);
  assert.equal(a.length, 1_000_000);
  const b = takeReadBuffer(700_000);
  assert.notEqual(b.buffer, a.buffer);
  giveReadBuffer(a.subarray(0, 10));
  const c = takeReadBuffer(600_000);
  assert.equal(c.buffer, a.buffer, 'the memory given back is taken again');
  assert.equal(c.length, 600_000);
  const d = takeReadBuffer(600_000);
  assert.notEqual(d.buffer, a.buffer, 'memory lent out is not lent twice');
  assert.notEqual(d.buffer, b.buffer);
});

test('giving back twice, or a buffer that was not taken, changes nothing', () => {
  const a = takeReadBuffer(200_000);
  giveReadBuffer(a);
  giveReadBuffer(a);
  const b = takeReadBuffer(200_000);
  const c = takeReadBuffer(200_000);
  assert.equal(b.buffer, a.buffer);
  assert.notEqual(c.buffer, a.buffer, 'given back once, taken once');
  const foreign = Buffer.allocUnsafeSlow(300_000);
  giveReadBuffer(foreign);
  assert.notEqual(takeReadBuffer(300_000).buffer, foreign.buffer);
});

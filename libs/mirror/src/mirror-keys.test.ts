import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { MIRROR_KEYS } from './mirror-store';

const ROOT = process.env.TRIBUTARY_ROOT ?? path.resolve(__dirname, '..', '..', '..', '..');

/** Each key of the table with its parameters named as docs/architecture.md names them. */
const RENDERED: Record<keyof typeof MIRROR_KEYS, readonly (string | number)[]> = {
  flow: MIRROR_KEYS.flow('<f>'),
  topics: MIRROR_KEYS.topics('<f>'),
  topicsVersion: MIRROR_KEYS.topicsVersion('<f>'),
  status: MIRROR_KEYS.status('<f>'),
  errors: MIRROR_KEYS.errors('<f>'),
  rate: MIRROR_KEYS.rate('<f>', '<s>' as unknown as number, '<what>' as 'bytes'),
  throttle: MIRROR_KEYS.throttle('<f>'),
  latency: MIRROR_KEYS.latency('<f>'),
  progress: MIRROR_KEYS.progress('<f>', '<t>', '<p>' as unknown as number),
  workers: MIRROR_KEYS.workers(),
  worker: MIRROR_KEYS.worker('<id>'),
  units: MIRROR_KEYS.units(),
  lock: MIRROR_KEYS.lock('<name>'),
  lockWait: MIRROR_KEYS.lockWait('<name>'),
};

test('docs/architecture.md lists exactly the mirror’s Redis keys', () => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const documented = [...doc.matchAll(/^ (<ns>:mirror:\S+)/gm)].map((m) => m[1]).sort();
  const table = Object.values(RENDERED)
    .map((parts) => ['<ns>', 'mirror', ...parts].join(':'))
    .sort();
  assert.deepEqual(documented, table);
});

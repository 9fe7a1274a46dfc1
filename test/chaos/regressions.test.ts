import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatReport, runChaos } from './chaos';
import { REGRESSION_SEEDS } from './regression-seeds';

describe('nemesis suite: every seed that ever found a bug', () => {
  for (const r of REGRESSION_SEEDS) {
    test(
      `seed ${r.seed}, ${r.seconds} s of faults (it found: ${r.found})`,
      { timeout: 290_000 },
      async () => {
        const report = await runChaos({ seed: r.seed, seconds: r.seconds, rate: 100, settleSeconds: 120 });
        assert.deepEqual(report.findings, [], formatReport(report));
      },
    );
  }
});

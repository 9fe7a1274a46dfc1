import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatReport, runChaos } from './chaos';

/**
 * The nemesis suite in `npm test`: 60 s of combined faults from a fixed seed (npm run chaos
 * runs it longer, with any seed), then the checker. Every finding fails the test with the
 * report: the seed, the summary, the fault log and where the logs are.
 */
describe('nemesis suite: a fixed seed in CI', () => {
  test(
    'seed ci-1, 60 s of faults: nothing acknowledged lost, duplicated or reordered; replicas, offsets and the mirror agree',
    { timeout: 290_000 },
    async () => {
      const report = await runChaos({ seed: 'ci-1', seconds: 60, rate: 100, settleSeconds: 120 });
      assert.deepEqual(report.findings, [], formatReport(report));
      assert.ok(
        report.counts['ours: acknowledged'] > 0 && report.counts['confluent: acknowledged'] > 0,
        formatReport(report),
      );
    },
  );
});

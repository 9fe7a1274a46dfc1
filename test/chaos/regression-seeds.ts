/**
 * Every seed that ever found a bug, each replayed as its own test in `npm test`
 * (regressions.test.ts). `seconds` is the length of the fault period that found it: a plan
 * for fewer seconds is the start of the longer one, so this replays the faults up to the
 * finding. Add a seed here whenever `npm run chaos` finds something, with what it found.
 */
export interface RegressionSeed {
  readonly seed: string;
  readonly seconds: number;
  readonly found: string;
}

export const REGRESSION_SEEDS: readonly RegressionSeed[] = [
  {
    seed: 'a1',
    seconds: 60,
    found:
      'committed offsets going back (a coordinator cut off from Redis served commits its ISR never got); our idempotent producer stuck on a sequence gap after giving up batches refused OUT_OF_ORDER_SEQUENCE_NUMBER behind one being resent',
  },
];

import { formatReport, runChaos } from './chaos';
import { FAULT_KINDS } from './nemesis';
import { newSeed } from './prng';

/**
 * npm run chaos: the nemesis suite. CHAOS_SECONDS of faults (180 by default), planned from
 * CHAOS_SEED (random when unset; printed first, so any run can be replayed); CHAOS_RATE
 * records per second per producer, CHAOS_PARTITIONS, CHAOS_TARGET_BROKERS, CHAOS_DIR, and
 * CHAOS_FAULTS (a comma-separated subset of the fault kinds, to hunt one kind of failure).
 * Exits 1 when the checker finds anything.
 */
function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${name} must be a positive integer, got "${raw}"`);
    process.exit(2);
  }
  return n;
}

function faultKinds(): string[] | undefined {
  const raw = process.env.CHAOS_FAULTS;
  if (raw === undefined || raw === '') return undefined;
  const known = FAULT_KINDS.map(([k]) => k);
  const kinds = raw.split(',').map((k) => k.trim());
  const unknown = kinds.filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    console.error(`CHAOS_FAULTS: unknown fault kind(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
    process.exit(2);
  }
  return kinds;
}

async function main(): Promise<void> {
  const seed = process.env.CHAOS_SEED || newSeed();
  const seconds = positive('CHAOS_SECONDS', 180);
  const faults = faultKinds();
  console.log(
    `CHAOS_SEED=${seed} CHAOS_SECONDS=${seconds}${faults ? ` CHAOS_FAULTS=${faults.join(',')}` : ''}`,
  );
  const report = await runChaos({
    seed,
    seconds,
    rate: positive('CHAOS_RATE', 150),
    partitions: positive('CHAOS_PARTITIONS', 6),
    targetBrokers: positive('CHAOS_TARGET_BROKERS', 2),
    faults,
    dir: process.env.CHAOS_DIR || undefined,
    echo: (line) => console.log(line),
  });
  console.log(`\n${formatReport(report)}`);
  process.exitCode = report.findings.length > 0 ? 1 : 0;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

import fs from 'node:fs';
import path from 'node:path';
import { ALL_APIS, ConsumerProtocolAssignment, ConsumerProtocolSubscription } from '@tributary/protocol';
import {
  applyAllowList,
  checkConformance,
  formatDifference,
  readAllowList,
  readKafkaSpecs,
} from './conformance';

/**
 * `npm run check:protocol -- DIR [--allow-list FILE]`: compares every API definition (and
 * the consumer protocol's messages) with Kafka's message JSON files in DIR, and exits 1 on a
 * difference the allow-list does not excuse, or on an allow-list entry that excuses nothing.
 */
const USAGE = 'usage: npm run check:protocol -- DIR [--allow-list FILE]  (DIR: Kafka message/*.json files)';
const ROOT = path.join(__dirname, '..', '..', '..');
const DEFAULT_ALLOW_LIST = path.join(ROOT, 'libs', 'protocol', 'conformance-allowlist.json');

function usage(message: string): never {
  console.error(`check:protocol: ${message}\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv: string[]): { dir: string; allowList: string } {
  let dir: string | undefined;
  let allowList = DEFAULT_ALLOW_LIST;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--allow-list') {
      const file = argv[++i];
      if (file === undefined) usage('--allow-list needs a file');
      allowList = file;
    } else if (argv[i].startsWith('-')) usage(`unknown option ${argv[i]}`);
    else if (dir === undefined) dir = argv[i];
    else usage(`unexpected argument ${argv[i]}`);
  }
  if (dir === undefined) usage('missing DIR');
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) usage(`${dir} is not a directory`);
  return { dir, allowList };
}

function main(): number {
  const { dir, allowList } = parseArgs(process.argv.slice(2));
  const specs = readKafkaSpecs(dir);
  if (specs.length === 0) usage(`${dir} holds no *.json message files`);
  const differences = checkConformance(
    ALL_APIS,
    [ConsumerProtocolSubscription, ConsumerProtocolAssignment],
    specs,
  );
  const verdict = applyAllowList(differences, readAllowList(allowList));
  for (const { difference, reason } of verdict.allowed) {
    console.log(`allowed: ${formatDifference(difference)}\n  because: ${reason}`);
  }
  for (const d of verdict.failures) console.error(`DIFFERS: ${formatDifference(d)}`);
  for (const e of verdict.unused) {
    console.error(`STALE allow-list entry (matches no difference): ${e.api} ${e.path} ${e.what}`);
  }
  const checked = ALL_APIS.length + 2;
  if (verdict.failures.length > 0 || verdict.unused.length > 0) {
    console.error(
      `check:protocol: ${verdict.failures.length} difference(s) from ${dir} and ` +
        `${verdict.unused.length} stale allow-list entr(y/ies), in ${checked} definitions`,
    );
    return 1;
  }
  console.log(
    `check:protocol: ${checked} definitions match ${dir} (${verdict.allowed.length} allowed difference(s))`,
  );
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  console.error(`check:protocol: ${(err as Error).message}`);
  process.exitCode = 1;
}

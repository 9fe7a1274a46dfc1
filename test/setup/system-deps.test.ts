import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ROOT, runAsync } from '../support/broker-process';

interface Machine {
  isRoot: boolean;
  osRelease: string;
  hasCommand(name: string): boolean;
  hasFile(file: string): boolean;
  hasPythonModule(mod: string): boolean;
}
interface Plan {
  action: 'none' | 'install' | 'stop';
  missing: string[];
  lines: string[];
  apt?: string[][];
}
interface SystemDeps {
  plan(command: string, machine: Machine): Plan;
  execute(plan: Plan, io: { log(line: string): void; run(argv: string[]): number }): number;
}

// Plain JavaScript, because it runs before anything is installed or built.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const deps = require(path.join(ROOT, 'scripts', 'system-deps.js')) as SystemDeps;

const DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n';
const UBUNTU = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n';
const FEDORA = 'NAME="Fedora Linux"\nID=fedora\n';

/** A machine that has exactly the commands, files and python modules listed. */
function machine(has: string[], opts: { isRoot?: boolean; osRelease?: string } = {}): Machine {
  return {
    isRoot: opts.isRoot ?? true,
    osRelease: opts.osRelease ?? DEBIAN,
    hasCommand: (n) => has.includes(n),
    hasFile: (f) => has.includes(f),
    hasPythonModule: (m) => has.includes(m),
  };
}
const EVERYTHING = [
  'redis-server',
  'kcat',
  'openssl',
  '/usr/bin/chromium',
  'confluent_kafka',
  'kafka',
  'snappy',
  'lz4.frame',
  'zstandard',
];

/** Carries out a plan, recording what it printed and ran instead of touching the machine. */
function carryOut(plan: Plan, aptStatus = 0) {
  const printed: string[] = [];
  const ran: string[][] = [];
  const code = deps.execute(plan, {
    log: (l) => printed.push(l),
    run: (argv) => {
      ran.push(argv);
      return aptStatus;
    },
  });
  return { code, printed: printed.join('\n'), ran };
}

describe('system packages for the README commands (scripts/system-deps.js)', () => {
  test('nothing missing: nothing printed, nothing installed', () => {
    for (const command of ['start', 'test', 'bench', 'chaos']) {
      const plan = deps.plan(command, machine(EVERYTHING));
      assert.equal(plan.action, 'none');
      assert.deepEqual(carryOut(plan), { code: 0, printed: '', ran: [] });
    }
  });

  test('npm start as root on a fresh Debian installs only redis-server, saying why', () => {
    const plan = deps.plan('start', machine(['openssl']));
    assert.equal(plan.action, 'install');
    assert.deepEqual(plan.missing, ['redis-server']);
    const { code, printed, ran } = carryOut(plan);
    assert.equal(code, 0);
    assert.match(printed, /npm start needs 1 system package\(s\) that are missing; installing with apt-get/);
    assert.match(printed, /redis-server: .*Redis/);
    assert.deepEqual(ran, [
      ['apt-get', 'update', '-qq'],
      ['apt-get', 'install', '-y', '-qq', 'redis-server'],
    ]);
  });

  test('npm test installs exactly what is missing and nothing already there', () => {
    const has = EVERYTHING.filter((x) => x !== 'kcat' && x !== 'zstandard' && x !== '/usr/bin/chromium');
    const plan = deps.plan('test', machine(has, { osRelease: UBUNTU }));
    assert.equal(plan.action, 'install');
    assert.deepEqual(plan.missing, ['kcat', 'chromium', 'python3-zstandard']);
    const { ran } = carryOut(plan);
    assert.deepEqual(ran[1], ['apt-get', 'install', '-y', '-qq', 'kcat', 'chromium', 'python3-zstandard']);
  });

  test('not root: stops before any work with one message naming what is missing and how to install it', () => {
    const plan = deps.plan('test', machine(['redis-server', 'openssl', 'kafka'], { isRoot: false }));
    assert.equal(plan.action, 'stop');
    const { code, printed, ran } = carryOut(plan);
    assert.equal(code, 1);
    assert.deepEqual(ran, []);
    assert.match(printed, /^tributary: npm test needs system packages that are missing:/);
    for (const pkg of plan.missing) assert.match(printed, new RegExp(`^  ${pkg}: `, 'm'));
    assert.doesNotMatch(printed, /redis-server|openssl|python3-kafka:/);
    assert.match(
      printed,
      /Install them with: sudo apt-get install -y kcat chromium python3-confluent-kafka python3-snappy python3-lz4 python3-zstandard$/,
    );
  });

  test('another distribution, even as root: stops and names the Debian packages to look for', () => {
    const plan = deps.plan('bench', machine([], { osRelease: FEDORA }));
    assert.equal(plan.action, 'stop');
    assert.deepEqual(plan.missing, ['redis-server', 'kcat']);
    const { code, printed } = carryOut(plan);
    assert.equal(code, 1);
    assert.match(printed, /npm run bench needs/);
    assert.match(printed, /equivalents of Debian's redis-server kcat with your system's package manager/);
  });

  test('a failed apt-get stops with its exit code and the command that failed', () => {
    const { code, printed, ran } = carryOut(deps.plan('start', machine([])), 100);
    assert.equal(code, 100);
    assert.equal(ran.length, 1);
    assert.match(printed, /`apt-get update -qq` failed with exit code 100/);
  });

  test('an unknown command is an error naming the known ones', () => {
    assert.throws(
      () => deps.plan('deploy', machine([])),
      /unknown command "deploy" \(one of start, test, bench, chaos\)/,
    );
  });

  test('on this machine, which the test run set up, every command finds what it needs and says nothing', async () => {
    for (const command of ['start', 'test', 'bench']) {
      const r = await runAsync(process.execPath, [path.join(ROOT, 'scripts', 'system-deps.js'), command], {
        timeoutMs: 30000,
      });
      assert.deepEqual({ status: r.status, stderr: r.stderr }, { status: 0, stderr: '' }, command);
    }
  });
});

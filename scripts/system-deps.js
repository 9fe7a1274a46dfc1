#!/usr/bin/env node
'use strict';
// The system packages each README command needs, and the one place that installs them.
// `npm start`, `npm test`, `npm run bench`, `npm run chaos` and `.ci/run` all ask it first, before any other work:
// as root on Debian or Ubuntu it installs what is missing with apt-get, saying what and why;
// anywhere else it stops with one message naming what is missing and the command that installs it.
// Usage: node scripts/system-deps.js start|test|bench|chaos
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');

/** Debian's python, which the Debian packages install into (not the pyenv python3 first on PATH). */
const DEBIAN_PYTHON = '/usr/bin/python3';

/** One Debian package: how to tell it is installed, why we need it, which commands need it. */
const REQUIREMENTS = [
  {
    pkg: 'redis-server',
    probe: { command: 'redis-server' },
    why: 'clusters and the replicator coordinate through a private Redis',
    commands: ['start', 'test', 'bench', 'chaos'],
  },
  {
    pkg: 'kcat',
    probe: { command: 'kcat' },
    why: "librdkafka's kcat proves compatibility and drives the benchmarks",
    commands: ['test', 'bench', 'chaos'],
  },
  {
    pkg: 'openssl',
    probe: { command: 'openssl' },
    why: 'the security tests make their TLS certificates',
    commands: ['test'],
  },
  {
    pkg: 'chromium',
    probe: { file: '/usr/bin/chromium' },
    why: "the dashboard's browser tests drive headless Chromium",
    commands: ['test'],
  },
  {
    pkg: 'python3-confluent-kafka',
    probe: { python: 'confluent_kafka' },
    why: 'confluent-kafka-python is an interop client',
    commands: ['test', 'chaos'],
  },
  {
    pkg: 'python3-kafka',
    probe: { python: 'kafka' },
    why: 'kafka-python is an interop client',
    commands: ['test'],
  },
  {
    pkg: 'python3-snappy',
    probe: { python: 'snappy' },
    why: "kafka-python's snappy codec for the compression interop tests",
    commands: ['test'],
  },
  {
    pkg: 'python3-lz4',
    probe: { python: 'lz4.frame' },
    why: "kafka-python's lz4 codec for the compression interop tests",
    commands: ['test'],
  },
  {
    pkg: 'python3-zstandard',
    probe: { python: 'zstandard' },
    why: "kafka-python's zstd codec for the compression interop tests",
    commands: ['test'],
  },
];

const COMMANDS = ['start', 'test', 'bench', 'chaos'];

/** The facts about this machine that the plan depends on, read from the real system. */
function readMachine() {
  let osRelease = '';
  try {
    osRelease = fs.readFileSync('/etc/os-release', 'utf8');
  } catch {
    // not Linux, or a minimal image: treated as "not Debian"
  }
  return {
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
    osRelease,
    hasCommand: (name) => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0,
    hasFile: (file) => fs.existsSync(file),
    hasPythonModule: (mod) =>
      fs.existsSync(DEBIAN_PYTHON) &&
      spawnSync(DEBIAN_PYTHON, ['-c', `import ${mod}`], { stdio: 'ignore' }).status === 0,
  };
}

function isDebianLike(osRelease) {
  const field = (name) => (new RegExp(`^${name}="?([^"\\n]*)"?$`, 'm').exec(osRelease) ?? [])[1] ?? '';
  const ids = `${field('ID')} ${field('ID_LIKE')}`.split(/\s+/);
  return ids.includes('debian') || ids.includes('ubuntu');
}

function installed(req, machine) {
  const { command, file, python } = req.probe;
  if (command) return machine.hasCommand(command);
  if (file) return machine.hasFile(file);
  return machine.hasPythonModule(python);
}

/**
 * What to do for `command` on `machine`: nothing, install the missing packages, or stop.
 * Pure: every decision is here so that it can be tested without touching the machine's packages.
 */
function plan(command, machine) {
  if (!COMMANDS.includes(command)) {
    throw new Error(`system-deps: unknown command "${command}" (one of ${COMMANDS.join(', ')})`);
  }
  const missing = REQUIREMENTS.filter((r) => r.commands.includes(command) && !installed(r, machine));
  if (missing.length === 0) return { action: 'none', missing: [], lines: [] };
  const pkgs = missing.map((r) => r.pkg);
  const reasons = missing.map((r) => `  ${r.pkg}: ${r.why}`);
  const what = `npm ${command === 'start' || command === 'test' ? command : `run ${command}`}`;
  if (machine.isRoot && isDebianLike(machine.osRelease)) {
    return {
      action: 'install',
      missing: pkgs,
      lines: [
        `${what} needs ${pkgs.length} system package(s) that are missing; installing with apt-get:`,
        ...reasons,
      ],
      apt: [
        ['apt-get', 'update', '-qq'],
        ['apt-get', 'install', '-y', '-qq', ...pkgs],
      ],
    };
  }
  const how = isDebianLike(machine.osRelease)
    ? `sudo apt-get install -y ${pkgs.join(' ')}`
    : `install the equivalents of Debian's ${pkgs.join(' ')} with your system's package manager`;
  return {
    action: 'stop',
    missing: pkgs,
    lines: [`${what} needs system packages that are missing:`, ...reasons, `Install them with: ${how}`],
  };
}

/** Carries out a plan: prints it, runs apt-get through `run`, and returns the process exit code. */
function execute(result, { log, run }) {
  if (result.action === 'none') return 0;
  log(`tributary: ${result.lines.join('\n')}`);
  if (result.action === 'stop') return 1;
  for (const argv of result.apt) {
    const status = run(argv);
    if (status !== 0) {
      log(`tributary: \`${argv.join(' ')}\` failed with exit code ${status}`);
      return status || 1;
    }
  }
  return 0;
}

/** Checks and installs for `command`; exits the process when the machine cannot run it. */
function ensureSystemDeps(command) {
  const code = execute(plan(command, readMachine()), {
    log: (line) => console.error(line),
    run: (argv) =>
      spawnSync(argv[0], argv.slice(1), {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      }).status ?? 1,
  });
  if (code !== 0) process.exit(code);
}

module.exports = { REQUIREMENTS, plan, execute, ensureSystemDeps, isDebianLike };

if (require.main === module) ensureSystemDeps(process.argv[2]);

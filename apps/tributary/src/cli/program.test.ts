import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CommanderError, type Command } from 'commander';
import { bashCompletion } from './completion';
import { UsageError } from './options';
import { buildProgram } from './program';

function* tree(cmd: Command): Generator<Command> {
  yield cmd;
  for (const sub of cmd.commands) yield* tree(sub);
}

const pathOf = (cmd: Command): string[] => (cmd.parent === null ? [] : [...pathOf(cmd.parent), cmd.name()]);

/** The program with its output captured and every action replaced by one that records what it was given. */
function program() {
  const out: string[] = [];
  const err: string[] = [];
  const calls: { path: string; args: unknown[] }[] = [];
  const root = buildProgram();
  for (const cmd of tree(root)) {
    cmd.configureOutput({ writeOut: (s) => void out.push(s), writeErr: (s) => void err.push(s) });
    // Leaves run something; the commands above them only dispatch.
    if (cmd.commands.length === 0)
      cmd.action((...args: unknown[]) => {
        calls.push({ path: pathOf(cmd).join(' '), args: args.slice(0, -1) });
      });
  }
  const parse = (...argv: string[]): Promise<unknown> => root.parseAsync(argv, { from: 'user' });
  return { root, out: () => out.join(''), err: () => err.join(''), calls, parse };
}

/** Parses argv expecting commander to stop with exitCode; resolves with what was printed. */
async function stops(exitCode: number, ...argv: string[]): Promise<{ out: string; err: string }> {
  const p = program();
  await assert.rejects(
    p.parse(...argv),
    (e: unknown) => e instanceof CommanderError && e.exitCode === exitCode,
  );
  return { out: p.out(), err: p.err() };
}

test('every command and subcommand has --help: its usage on stdout, exit 0', async () => {
  const commands = [...tree(buildProgram())];
  assert.ok(commands.length >= 20, `${commands.length} commands`);
  for (const cmd of commands) {
    const argv = [...pathOf(cmd), '--help'];
    const { out, err } = await stops(0, ...argv);
    assert.match(out, new RegExp(`^Usage: tributary ${pathOf(cmd).join(' ')}`), argv.join(' '));
    assert.equal(err, '', argv.join(' '));
  }
});

test('mistakes print `tributary: <what>` and the usage of the command on stderr', async () => {
  const cases: [string[], string, string][] = [
    [['frobnicate'], 'unknown command "frobnicate"', 'tributary'],
    [['topics', 'frobnicate'], 'unknown topics command "frobnicate"', 'tributary topics'],
    [['mirror', 'frobnicate'], 'unknown mirror command "frobnicate"', 'tributary mirror'],
    [['broker', '--nod-id', '1'], 'unknown option --nod-id\n(Did you mean --node-id?)', 'tributary broker'],
    [
      ['topics', 'list', '--bootstrap-server'],
      'option --bootstrap-server <HOST:PORT[,HOST:PORT]> argument missing',
      'tributary topics list',
    ],
    [['groups', 'describe', '--bootstrap-server', 'h:1'], 'GROUP is required', 'tributary groups describe'],
    [
      ['broker', '--log-format', 'xml'],
      "option --log-format <FORMAT> argument 'xml' is invalid. Allowed choices are text, json.",
      'tributary broker',
    ],
    [['cluster'], 'required option --config <FILE> not specified', 'tributary cluster'],
    [['mirror', 'run'], '--config FILE is required', 'tributary mirror run'],
    [
      ['topics', 'describe', 'a', 'b', '--bootstrap-server', 'h:1'],
      "too many arguments for 'describe'. Expected 1 argument but got 2.",
      'tributary topics describe',
    ],
  ];
  for (const [argv, message, usage] of cases) {
    const { out, err } = await stops(1, ...argv);
    assert.equal(out, '', argv.join(' '));
    assert.ok(err.startsWith(`tributary: ${message}\n\nUsage: ${usage} `), `${argv.join(' ')}:\n${err}`);
  }
  // A command with subcommands but none given: its usage on stderr.
  const bare = await stops(1, 'groups');
  assert.match(bare.err, /^Usage: tributary groups \[options\] \[command\]\n[\s\S]*reset-offsets/);
});

test('options: --name value and --name=value, anywhere after the command; repeatable ones collect', async () => {
  const p = program();
  await p.parse(
    'broker',
    '--set',
    'num.partitions=3',
    '--node-id=2',
    '--set',
    'log.retention.ms=1000',
    '--metrics-listen',
    '[::1]:9404',
    '--log-level',
    'debug',
  );
  await p.parse(
    'topics',
    'create',
    'orders',
    '--config',
    'a=1',
    '--partitions',
    '3',
    '--config',
    'b=2',
    '--json',
  );
  await p.parse('mirror', '--config', 'm.yaml', '--no-manage');
  await p.parse('groups', 'reset-offsets', 'g', '--to-offset', '5', '--topic', 'a', '--topic', 'b:0,1');
  assert.deepEqual(
    p.calls.map((c) => [c.path, ...c.args]),
    [
      [
        'broker',
        {
          set: { 'num.partitions': '3', 'log.retention.ms': '1000' },
          nodeId: '2',
          metricsListen: { host: '::1', port: 9404 },
          logLevel: 'debug',
        },
      ],
      ['topics create', 'orders', { config: { a: '1', b: '2' }, partitions: 3, json: true }],
      ['mirror run', { config: 'm.yaml', manage: false }],
      ['groups reset-offsets', 'g', { toOffset: 5, topic: ['a', 'b:0,1'] }],
    ],
  );
});

test('values are checked as they are read; a single-value flag given twice is refused', async () => {
  const cases: [string[], string][] = [
    [['broker', '--node-id', '1', '--node-id', '2'], '--node-id is given more than once'],
    [['broker', '--metrics-listen', '9404'], '--metrics-listen 9404: expected HOST:PORT'],
    [['topics', 'create', 'x', '--partitions', 'many'], '--partitions must be an integer >= 1, got many'],
    [['topics', 'alter-config', 'x', '--set', 'novalue'], '--set novalue: expected KEY=VALUE'],
    [['mirror', 'list', '--console', 'ftp://x'], '--console must be an http(s) URL, got ftp://x'],
    [
      ['groups', 'reset-offsets', 'g', '--to-datetime', 'soon'],
      '--to-datetime soon: expected ISO-8601 (2024-05-01T12:00:00Z) or epoch ms',
    ],
  ];
  for (const [argv, message] of cases) {
    await assert.rejects(
      program().parse(...argv),
      (e: unknown) => e instanceof UsageError && e.message === message,
      argv.join(' '),
    );
  }
});

test('the bash completion script completes commands, flags and their values', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-completion-'));
  const script = path.join(dir, 'tributary.bash');
  fs.writeFileSync(script, bashCompletion(buildProgram()));
  fs.writeFileSync(path.join(dir, 'cluster.yaml'), '');
  fs.mkdirSync(path.join(dir, 'config'));
  const cases: [string[], string[]][] = [
    [
      ['tributary', ''],
      ['broker', 'demo', 'cluster', 'mirror', 'console', 'topics', 'groups', 'completion', '--help'],
    ],
    [['tributary', 'to'], ['topics']],
    [['tributary', 'topics', 'a'], ['alter-config']],
    [
      ['tributary', 'groups', 'reset-offsets', 'g', '--to-'],
      ['--to-earliest', '--to-latest', '--to-datetime', '--to-offset'],
    ],
    [
      ['tributary', 'broker', '--log-format', ''],
      ['text', 'json'],
    ],
    [['tributary', 'mirror', 'run', '--log-level', 'de'], ['debug']],
    [['tributary', 'cluster', '--config', 'cl'], ['cluster.yaml']],
    [['tributary', 'broker', '--data-dir', ''], ['config']],
    [['tributary', 'broker', '--node-id', ''], []],
    // the value of --config is not taken for a command: "topics" here is a file name
    [['tributary', 'topics', 'create', '--config', 'topics', '--rep'], ['--replication-factor']],
    [
      ['tributary', 'completion', ''],
      ['bash', '--help'],
    ],
  ];
  for (const [words, expected] of cases) {
    const r = spawnSync(
      'bash',
      [
        '-c',
        `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _tributary_completion; printf '%s\\n' "\${COMPREPLY[@]}"`,
        'bash',
        script,
        ...words,
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', words.join(' '));
    assert.deepEqual(
      r.stdout.split('\n').filter((l) => l !== ''),
      expected,
      words.join(' '),
    );
  }
});

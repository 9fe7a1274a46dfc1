import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { MAIN, runAsync, tempDir } from '../support/broker-process';

const cli = (...args: string[]) => runAsync(process.execPath, [MAIN, ...args], { timeoutMs: 30_000 });

test('usage mistakes exit 2 with the message and the usage on stderr, nothing on stdout', async () => {
  const cases: [string[], string, string][] = [
    [
      ['topics', 'list', '--bootstrap-server', '127.0.0.1:9092', '--includ-internal'],
      'unknown option --includ-internal\n(Did you mean --include-internal?)',
      'tributary topics list',
    ],
    [['broker', '--node-id'], 'option --node-id <N> argument missing', 'tributary broker'],
    [['groups', 'frobnicate'], 'unknown groups command "frobnicate"', 'tributary groups'],
    [['frobnicate'], 'unknown command "frobnicate"', 'tributary'],
    [['mirror', 'describe'], 'FLOW is required', 'tributary mirror describe'],
  ];
  const results = await Promise.all(cases.map(([args]) => cli(...args)));
  for (const [i, [args, message, usage]] of cases.entries()) {
    const r = results[i];
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '', args.join(' '));
    assert.ok(
      r.stderr.startsWith(`tributary: ${message}\n\nUsage: ${usage} `),
      `${args.join(' ')}:\n${r.stderr}`,
    );
  }
});

test('--help exits 0 with the usage on stdout; no command at all shows the commands', async () => {
  const cases = [
    [],
    ['--help'],
    ['help', 'groups'],
    ['topics', 'create', '--help'],
    ['mirror', '--help'],
    ['mirror', 'run', '-h'],
  ];
  const results = await Promise.all(cases.map((args) => cli(...args)));
  for (const [i, args] of cases.entries()) {
    const r = results[i];
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, '', args.join(' '));
    assert.match(r.stdout, /^Usage: tributary /, args.join(' '));
  }
  assert.match(results[0].stdout, /\nCommands:\n {2}broker \[options\] +run one broker\n/);
  assert.match(results[3].stdout, /^Usage: tributary topics create \[options\] <TOPIC>\n/);
});

test('a bad log setting in a config file names the file and the key, exit 2', async () => {
  const file = path.join(tempDir('bad-log'), 'broker.yaml');
  fs.writeFileSync(file, 'node.id: 1\nlog.format: xml\n');
  const r = await cli('broker', '--config', file);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr, `tributary: ${file}: log.format: must be text or json, got "xml"\n`);
});

test('bad Redis Sentinel flags of broker and mirror name the flag or key, exit 2', async () => {
  const mirror = path.join(tempDir('sentinel-flags'), 'mirror.yaml');
  fs.writeFileSync(
    mirror,
    'clusters:\n  a: { bootstrap.servers: 127.0.0.1:1 }\n  b: { bootstrap.servers: 127.0.0.1:2 }\nflows: [{ source: a, target: b }]\n',
  );
  const cases: [string[], string][] = [
    [
      ['broker', '--node-id', '1', '--cluster-id', 'c', '--redis-sentinels', '127.0.0.1:1'],
      'tributary: command line: redis.sentinel.master: is required with redis.sentinels',
    ],
    [
      [
        'broker',
        '--node-id',
        '1',
        '--cluster-id',
        'c',
        '--redis-sentinels',
        'x',
        '--redis-sentinel-master',
        'm',
      ],
      'tributary: command line: redis.sentinels: "x" is not HOST:PORT',
    ],
    [
      ['mirror', '--config', mirror, '--redis-sentinels', '127.0.0.1:1'],
      'tributary: --redis-sentinel-master is required with sentinels',
    ],
    [
      ['mirror', '--config', mirror, '--redis-sentinels', 'x', '--redis-sentinel-master', 'm'],
      'tributary: --redis-sentinels must list HOST:PORT, not "x"',
    ],
  ];
  const results = await Promise.all(cases.map(([args]) => cli(...args)));
  for (const [i, [args, message]] of cases.entries()) {
    assert.equal(results[i].status, 2, `${args.join(' ')}: ${results[i].stderr}`);
    assert.ok(results[i].stderr.startsWith(message), `${args.join(' ')}:\n${results[i].stderr}`);
  }
});

test('`tributary completion bash` is a script bash sources and completes with', async () => {
  const printed = await cli('completion', 'bash');
  assert.equal(printed.status, 0, printed.stderr);
  const script = path.join(tempDir('completion'), 'tributary.bash');
  fs.writeFileSync(script, printed.stdout);
  const r = await runAsync('bash', [
    '-c',
    `source "$1"; complete -p tributary; COMP_WORDS=(tributary groups res); COMP_CWORD=2; _tributary_completion; echo "\${COMPREPLY[@]}"`,
    'bash',
    script,
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'complete -F _tributary_completion tributary\nreset-offsets\n');
});

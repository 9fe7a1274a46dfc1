import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MAIN, ROOT, runAsync, startBroker, tempDir, type BrokerProcess } from '../support/broker-process';

interface Running {
  /** What the process wrote to stdout and to stderr, apart. */
  stdout(): string;
  stderr(): string;
  /** The first match of `pattern` in stdout, waiting up to 30 s for it. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  /** SIGTERM; resolves with the exit code once stdout is complete. */
  stop(): Promise<number | null>;
}

/** Runs `tributary ...args` with stdout and stderr each a pipe, as a log shipper reads them. */
function tributary(...args: string[]): Running {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
  return {
    stdout: () => out,
    stderr: () => err,
    async waitFor(pattern) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const m = pattern.exec(out);
        if (m !== null) return m;
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}:\n${out}\n${err}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} in 30 s:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return closed;
    },
  };
}

/** Every line of a JSON log: one object each, with the fields a shipper indexes. */
function records(stdout: string): Record<string, unknown>[] {
  assert.ok(stdout.endsWith('\n'), 'the last line is complete');
  return stdout
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const r = JSON.parse(line) as Record<string, unknown>;
      assert.match(String(r.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, line);
      assert.ok(['fatal', 'error', 'warn', 'info', 'debug', 'trace'].includes(String(r.level)), line);
      assert.equal(typeof r.component, 'string', line);
      assert.equal(typeof r.msg, 'string', line);
      return r;
    });
}

/** kcat asks a broker for metadata: a few requests for its request log. */
async function metadata(bootstrap: string): Promise<void> {
  const r = await runAsync('kcat', ['-b', bootstrap, '-L', '-J'], { timeoutMs: 20_000 });
  assert.equal(r.status, 0, r.stderr);
}

const LISTENING = /listening on 127\.0\.0\.1:(\d+)/;

describe('broker logs', () => {
  test('--log-format json: every line of stdout is a JSON object with time, level, component and msg', async () => {
    const broker = tributary(
      ...['broker', '--node-id', '1', '--listen', '127.0.0.1:0', '--data-dir', tempDir('json-log')],
      ...['--metrics-listen', '127.0.0.1:0', '--log-format', 'json'],
    );
    try {
      const port = (await broker.waitFor(LISTENING))[1];
      await broker.waitFor(/metrics on/);
      await metadata(`127.0.0.1:${port}`);
    } finally {
      assert.equal(await broker.stop(), 0, broker.stderr());
    }
    assert.equal(broker.stderr(), '');
    const logged = records(broker.stdout());
    const find = (pattern: RegExp) => {
      const r = logged.find((x) => pattern.test(String(x.msg)));
      return r && [r.level, r.component];
    };
    assert.deepEqual(find(LISTENING), ['info', 'broker-1']);
    assert.deepEqual(find(/^metrics on http:/), ['info', 'metrics']);
    assert.deepEqual(find(/^stopped: in-flight requests answered/), ['info', 'broker-1']);
    assert.ok(!logged.some((r) => r.level === 'debug'), 'debug is off at info');
  });

  test("log.format and log.level from the broker's config file; debug has each request the broker answered", async () => {
    const dir = tempDir('log-config');
    const file = path.join(dir, 'broker.yaml');
    fs.writeFileSync(
      file,
      [
        'node.id: 1',
        'listeners: PLAINTEXT://127.0.0.1:0',
        'log:',
        `  dirs: ${path.join(dir, 'data')}`,
        '  format: json',
        '  level: debug',
      ].join('\n') + '\n',
    );
    const broker = tributary('broker', '--config', file);
    try {
      const port = (await broker.waitFor(LISTENING))[1];
      await metadata(`127.0.0.1:${port}`);
      await broker.waitFor(/"msg":"Metadata v\d+ correlation/);
    } finally {
      assert.equal(await broker.stop(), 0, broker.stderr());
    }
    const logged = records(broker.stdout());
    const requests = logged.filter((r) => /^\w+ v\d+ correlation \d+ from rdkafka at /.test(String(r.msg)));
    assert.ok(requests.length >= 2, broker.stdout());
    for (const r of requests) assert.deepEqual([r.level, r.component], ['debug', 'broker-1']);
    // Nest's own start-up lines are there at debug, not at info.
    const nest = logged.filter((r) => r.component === 'InstanceLoader' || r.component === 'NestFactory');
    assert.ok(nest.length > 0 && nest.every((r) => r.level === 'debug'), broker.stdout());
  });

  test('text into a pipe: no colours; --log-level info leaves out debug and Nest’s start-up lines', async () => {
    const broker = tributary(
      ...['broker', '--node-id', '1', '--listen', '127.0.0.1:0', '--data-dir', tempDir('text-log')],
    );
    try {
      const port = (await broker.waitFor(LISTENING))[1];
      await metadata(`127.0.0.1:${port}`);
    } finally {
      assert.equal(await broker.stop(), 0, broker.stderr());
    }
    const out = broker.stdout();
    assert.ok(!out.includes('\x1b['), 'no ANSI escapes');
    assert.match(out, /^\S+Z INFO {2}\[broker-1\] node 1 of cluster \S+ listening on 127\.0\.0\.1:\d+ /m);
    for (const line of out.trimEnd().split('\n')) assert.match(line, /^\S+Z INFO {2}\[broker-1\] /);
  });
});

describe('console logs', () => {
  let broker: BrokerProcess;

  before(async () => {
    broker = await startBroker();
  });

  after(async () => {
    await broker?.stop();
  });

  test("Nest's route mapping is at debug: hidden at info, JSON records of RouterExplorer at debug", async () => {
    const args = ['console', '--bootstrap-server', broker.bootstrap, '--listen', '127.0.0.1:0'];
    const text = tributary(...args);
    try {
      await text.waitFor(/^console on http:\/\/\S+ for /m);
    } finally {
      assert.equal(await text.stop(), 0, text.stderr());
    }
    assert.ok(!/Mapped \{|RoutesResolver|InstanceLoader/.test(text.stdout()), text.stdout());

    const json = tributary(...args, '--log-format', 'json', '--log-level', 'debug');
    try {
      await json.waitFor(/"msg":"console on http:/);
    } finally {
      assert.equal(await json.stop(), 0, json.stderr());
    }
    const logged = records(json.stdout());
    const routes = logged.filter((r) => /^Mapped \{/.test(String(r.msg)));
    assert.ok(routes.length > 10, json.stdout());
    for (const r of routes) assert.deepEqual([r.level, r.component], ['debug', 'RouterExplorer']);
    assert.deepEqual(
      logged.filter((r) => r.component === 'console').map((r) => [r.level, String(r.msg).split(' ')[0]]),
      [
        ['info', 'console'],
        ['info', 'console'],
      ],
    );
  });
});

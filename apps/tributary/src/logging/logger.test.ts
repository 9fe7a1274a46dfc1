import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@tributary/broker';
import { logSettingsOf, takeLogSettings, type LogSettings } from './log-settings';
import { createLogger } from './logger';

interface LogRecord {
  readonly level: string;
  readonly component: string;
  readonly msg: string;
}

/** A logger writing into an array, one entry per write. */
function capture(settings: LogSettings, colours = false) {
  const lines: string[] = [];
  const logger = createLogger(settings, { write: (s: string) => void lines.push(s) }, colours);
  return { logger, lines };
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

test('JSON: one object per line with time, level, component, msg and fields', () => {
  const { logger, lines } = capture({ format: 'json', level: 'info' });
  logger.log('node 1 listening', 'dc1/broker-1');
  logger.warn({ topic: 'orders', partition: 3 }, 'storage');
  logger.error('append failed', 'Error: boom\n    at x (y.js:1:1)', 'broker-2');
  logger.log('no context');
  const records = lines.map((l) => {
    assert.ok(l.endsWith('\n') && !l.slice(0, -1).includes('\n'), `one line: ${l}`);
    return JSON.parse(l) as Record<string, unknown>;
  });
  for (const r of records) assert.match(String(r.time), ISO);
  assert.deepEqual(
    records.map(({ level, component, msg }) => ({ level, component, msg })),
    [
      { level: 'info', component: 'dc1/broker-1', msg: 'node 1 listening' },
      { level: 'warn', component: 'storage', msg: undefined },
      { level: 'error', component: 'broker-2', msg: 'append failed' },
      { level: 'info', component: 'tributary', msg: 'no context' },
    ],
  );
  assert.deepEqual([records[1].topic, records[1].partition], ['orders', 3]);
  assert.equal(records[2].stack, 'Error: boom\n    at x (y.js:1:1)');
});

test('levels: below the level nothing is written; Nest start-up lines are debug', () => {
  const info = capture({ format: 'json', level: 'info' });
  info.logger.debug('Produce v9 ...', 'broker-1');
  info.logger.log('Mapped {/api/clusters, GET} route', 'RouterExplorer');
  info.logger.log('ConsoleModule dependencies initialized', 'InstanceLoader');
  assert.deepEqual(info.lines, []);
  const debug = capture({ format: 'json', level: 'debug' });
  debug.logger.debug('Produce v9 ...', 'broker-1');
  debug.logger.log('Mapped {/api/clusters, GET} route', 'RouterExplorer');
  debug.logger.verbose('finer still', 'broker-1');
  assert.deepEqual(
    debug.lines.map((l) => JSON.parse(l) as LogRecord).map((r) => [r.level, r.component]),
    [
      ['debug', 'broker-1'],
      ['debug', 'RouterExplorer'],
    ],
  );
  const warn = capture({ format: 'text', level: 'warn' });
  warn.logger.log('listening', 'broker-1');
  warn.logger.announce('console', ['console on http://127.0.0.1:8080']);
  warn.logger.warn('slow', 'broker-1');
  assert.equal(warn.lines.length, 1);
  assert.match(warn.lines[0], / WARN {2}\[broker-1\] slow\n$/);
});

test('text: time, level, [component], message, fields, stack; colours only when asked', () => {
  const { logger, lines } = capture({ format: 'text', level: 'info' });
  logger.log('listening on 127.0.0.1:9092', 'dc1/broker-1');
  logger.warn({ topic: 'orders', reason: 'two words' }, 'storage');
  logger.fatal(new Error('boom'), 'tributary');
  assert.match(lines[0], /^\S+Z INFO {2}\[dc1\/broker-1\] listening on 127\.0\.0\.1:9092\n$/);
  assert.match(lines[1], /^\S+Z WARN {2}\[storage\] topic=orders reason="two words"\n$/);
  assert.match(lines[2], /^\S+Z FATAL \[tributary\] boom\nError: boom\n {4}at /);
  assert.ok(!lines.join('').includes('\x1b['), 'no ANSI escapes');
  const coloured = capture({ format: 'text', level: 'info' }, true);
  coloured.logger.log('listening', 'broker-1');
  assert.equal(coloured.lines[0].slice(25), '\x1b[32mINFO \x1b[0m \x1b[33m[broker-1]\x1b[0m listening\n');
});

test('announcements: a bare line in text, info records in JSON', () => {
  const text = capture({ format: 'text', level: 'info' });
  text.logger.announce('demo', ['', 'Tributary demo: ...', '  dashboard  http://127.0.0.1:8080/', '']);
  assert.deepEqual(text.lines, ['\nTributary demo: ...\n  dashboard  http://127.0.0.1:8080/\n\n']);
  const json = capture({ format: 'json', level: 'info' });
  json.logger.announce('demo', ['', 'Tributary demo: ...', '  dashboard  http://127.0.0.1:8080/', '']);
  assert.deepEqual(
    json.lines.map((l) => JSON.parse(l) as LogRecord).map((r) => [r.level, r.component, r.msg]),
    [
      ['info', 'demo', 'Tributary demo: ...'],
      ['info', 'demo', '  dashboard  http://127.0.0.1:8080/'],
    ],
  );
});

test('log settings from a config file: dotted or nested, beside Kafka log.* keys; flags win', () => {
  assert.deepEqual(takeLogSettings({ 'log.format': 'json', 'log.dirs': '/d', 'node.id': 1 }, 'b.yaml'), {
    log: { format: 'json' },
    rest: { 'log.dirs': '/d', 'node.id': 1 },
  });
  assert.deepEqual(takeLogSettings({ log: { format: 'text', level: 'debug', dirs: '/d' } }, 'b.yaml'), {
    log: { format: 'text', level: 'debug' },
    rest: { log: { dirs: '/d' } },
  });
  assert.deepEqual(takeLogSettings({ log: { level: 'log' }, clusters: [] }, 'c.yaml'), {
    log: { level: 'info' },
    rest: { clusters: [] },
  });
  assert.deepEqual(takeLogSettings(null, 'empty.yaml'), { log: {}, rest: null });
  assert.throws(
    () => takeLogSettings({ log: { format: 'xml' } }, 'm.yaml'),
    (err: unknown) =>
      err instanceof ConfigError && err.message === 'm.yaml: log.format: must be text or json, got "xml"',
  );
  assert.throws(
    () => takeLogSettings({ 'log.level': 'constructor' }, 'm.yaml'),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.message ===
        'm.yaml: log.level: must be one of error, warn, info, log, debug, trace, verbose, got "constructor"',
  );
  assert.deepEqual(logSettingsOf({ logLevel: 'verbose' }, { format: 'json', level: 'warn' }), {
    format: 'json',
    level: 'trace',
  });
  assert.deepEqual(logSettingsOf({}, {}), { format: 'text', level: 'info' });
});

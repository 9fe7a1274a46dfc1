import { inspect } from 'node:util';
import { Logger, type LoggerService, type LogLevel } from '@nestjs/common';
import { ROOT_LOGGER, type LoggerLevels, type LogLevel as KafkaLogLevel } from '@tributary/broker';
import pino, { type DestinationStream, type Logger as Pino } from 'pino';
import type { LogLevelName, LogSettings } from './log-settings';

/** Nest's start-up lines (modules loaded, every route mapped): noise at info, kept at debug. */
const NEST_STARTUP = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

/** Nest's levels that a pino level lets through, so Logger.isLevelEnabled answers as pino does. */
const NEST_LEVELS: Record<LogLevelName, LogLevel[]> = {
  fatal: ['fatal'],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

const COMPONENT = 'tributary';

/** pino's levels from the most verbose, as log4j names them in Kafka's BROKER_LOGGER resources. */
const LEVEL_ORDER: readonly LogLevelName[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
const toKafka = (level: string): KafkaLogLevel => level.toUpperCase() as KafkaLogLevel;
const toPino = (level: KafkaLogLevel): LogLevelName => level.toLowerCase() as LogLevelName;

/**
 * Nest's LoggerService over pino: Nest's context (a Logger's name, as `dc1/broker-1` or
 * `mirror`) becomes the record's component. Libraries log through Nest's Logger and never
 * see pino. Each component is a logger whose level can change at runtime (BROKER_LOGGER
 * resources); one without its own level follows the root's.
 */
export class PinoNestLogger implements LoggerService, LoggerLevels {
  private readonly components = new Map<string, Pino>();
  /** Components given their own level. */
  private readonly ownLevels = new Set<string>();

  constructor(
    private readonly root: Pino,
    private readonly settings: LogSettings,
    private readonly out: DestinationStream,
  ) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /**
   * What a command tells the person who started it (where its dashboard is): a bare line in
   * text, an info record of `component` in JSON.
   */
  announce(component: string, lines: readonly string[]): void {
    const logger = this.component(component);
    if (!logger.isLevelEnabled('info')) return;
    if (this.settings.format === 'text') this.out.write(`${lines.join('\n')}\n`);
    else for (const line of lines) if (line !== '') logger.info(line);
  }

  loggers(): ReadonlyMap<string, KafkaLogLevel> {
    const out = new Map<string, KafkaLogLevel>([[ROOT_LOGGER, toKafka(this.root.level)]]);
    for (const name of [...this.components.keys()].sort())
      out.set(name, toKafka(this.components.get(name)!.level));
    return out;
  }

  setLevel(name: string, level: KafkaLogLevel | null): void {
    if (name === ROOT_LOGGER) {
      if (level === null) return;
      this.root.level = toPino(level);
      for (const [n, c] of this.components) if (!this.ownLevels.has(n)) c.level = this.root.level;
    } else {
      const c = this.component(name);
      if (level === null) this.ownLevels.delete(name);
      else this.ownLevels.add(name);
      c.level = level === null ? this.root.level : toPino(level);
    }
    // Nest drops calls below its levels before they reach pino: let through the most verbose in use.
    const levels = [this.root.level, ...[...this.components.values()].map((c) => c.level)];
    const verbose = LEVEL_ORDER.find((l) => levels.includes(l)) ?? 'info';
    Logger.overrideLogger(NEST_LEVELS[verbose]);
  }

  private component(name: string): Pino {
    let logger = this.components.get(name);
    if (logger === undefined) {
      logger = this.root.child({ component: name });
      this.components.set(name, logger);
    }
    return logger;
  }

  /** Nest's arguments: the context last (a string), an error's stack before it, objects as fields. */
  private write(level: LogLevelName, message: unknown, params: unknown[]): void {
    const last = params.at(-1);
    const context = typeof last === 'string' ? last : COMPONENT;
    const rest = typeof last === 'string' ? params.slice(0, -1) : params;
    if (level === 'info' && NEST_STARTUP.has(context)) level = 'debug';
    const logger = this.component(context);
    if (!logger.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    let msg: string | undefined;
    if (message instanceof Error) {
      fields.err = message;
      msg = message.message;
    } else if (message !== null && typeof message === 'object') {
      Object.assign(fields, message);
    } else {
      msg = String(message);
    }
    for (const p of rest) {
      if (p === undefined) continue;
      if (p instanceof Error) fields.err = p;
      else if (p !== null && typeof p === 'object') Object.assign(fields, p);
      else if (typeof p === 'string' && (level === 'error' || level === 'fatal')) fields.stack = p;
      else {
        const text = typeof p === 'string' ? p : inspect(p);
        msg = msg === undefined ? text : `${msg} ${text}`;
      }
    }
    logger[level](fields, msg);
  }
}

const COLOURS: Record<string, string> = {
  fatal: '\x1b[35m',
  error: '\x1b[31m',
  warn: '\x1b[33m',
  info: '\x1b[32m',
  debug: '\x1b[36m',
  trace: '\x1b[90m',
};
const RESET = '\x1b[0m';
const HIDDEN = new Set(['time', 'level', 'component', 'msg', 'pid', 'hostname', 'err', 'stack']);

/**
 * Renders pino's JSON line as text for people: time, level, [component], message, then any
 * other fields as key=value, and a stack on the lines after. Colours only on a terminal.
 * pino still does the levels, components and serializing; only the last step differs.
 */
export function textLine(json: string, colours: boolean): string {
  const r = JSON.parse(json) as Record<string, unknown>;
  const level = String(r.level);
  const paint = (code: string | undefined, s: string): string =>
    colours && code ? `${code}${s}${RESET}` : s;
  const fields = Object.entries(r)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`);
  const err = r.err as { stack?: string } | undefined;
  const stack = err?.stack ?? (typeof r.stack === 'string' ? r.stack : undefined);
  const line = [
    String(r.time),
    paint(COLOURS[level], level.toUpperCase().padEnd(5)),
    paint('\x1b[33m', `[${String(r.component)}]`),
    ...(typeof r.msg === 'string' ? [r.msg] : []),
    ...fields,
  ].join(' ');
  return `${line}${stack === undefined ? '' : `\n${stack}`}\n`;
}

/**
 * pino writing to `stdout` (the process' by default, written synchronously so nothing is lost
 * at exit), as JSON lines or as text.
 */
export function createLogger(
  settings: LogSettings,
  stdout: DestinationStream = pino.destination({ dest: 1, sync: true }),
  colours = process.stdout.isTTY === true && !process.env.NO_COLOR,
): PinoNestLogger {
  const out: DestinationStream =
    settings.format === 'json' ? stdout : { write: (line) => stdout.write(textLine(line, colours)) };
  const root = pino(
    {
      level: settings.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    out,
  );
  return new PinoNestLogger(root, settings, stdout);
}

let active: PinoNestLogger | null = null;

/**
 * Makes the logger Nest's (so every `new Logger(name)` of the libraries writes through it)
 * and tells Nest the level, which libraries ask before building lines on hot paths.
 */
export function startLogging(settings: LogSettings): PinoNestLogger {
  active = createLogger(settings);
  Logger.overrideLogger(active);
  Logger.overrideLogger(NEST_LEVELS[settings.level]);
  return active;
}

/** The process' logger once a command started it; null before (usage and config errors). */
export function activeLogger(): PinoNestLogger | null {
  return active;
}

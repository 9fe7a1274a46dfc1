import { ConfigError } from '@tributary/broker';

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** pino's level names, lowest last. */
export type LogLevelName = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** What --log-level and log.level accept: pino's names and Nest's (log is info, verbose is trace). */
const LEVEL_NAMES: ReadonlyMap<string, LogLevelName> = new Map([
  ['error', 'error'],
  ['warn', 'warn'],
  ['info', 'info'],
  ['log', 'info'],
  ['debug', 'debug'],
  ['trace', 'trace'],
  ['verbose', 'trace'],
]);
export const LOG_LEVEL_NAMES = [...LEVEL_NAMES.keys()];

export interface LogSettings {
  readonly format: LogFormat;
  readonly level: LogLevelName;
}

export const DEFAULT_LOG_SETTINGS: LogSettings = { format: 'text', level: 'info' };

/** The --log-format and --log-level flags of a command that runs something. */
export interface LogFlags {
  readonly logFormat?: LogFormat;
  readonly logLevel?: string;
}

/** The flags win over the config file's log.format and log.level, which win over text at info. */
export function logSettingsOf(flags: LogFlags, fromFile: Partial<LogSettings> = {}): LogSettings {
  return {
    format: flags.logFormat ?? fromFile.format ?? DEFAULT_LOG_SETTINGS.format,
    level:
      flags.logLevel === undefined
        ? (fromFile.level ?? DEFAULT_LOG_SETTINGS.level)
        : (LEVEL_NAMES.get(flags.logLevel) ?? DEFAULT_LOG_SETTINGS.level),
  };
}

/**
 * Takes log.format and log.level out of a config document (as dotted keys or a `log` map,
 * beside Kafka's log.* settings in a broker's file), so the parser of the rest sees only its
 * own keys. Errors name the file and the key.
 */
export function takeLogSettings<T>(
  doc: T,
  file: string,
): { readonly log: Partial<LogSettings>; readonly rest: T } {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return { log: {}, rest: doc };
  const rest: Record<string, unknown> = { ...(doc as Record<string, unknown>) };
  const found: Record<'format' | 'level', unknown> = { format: undefined, level: undefined };
  for (const key of ['format', 'level'] as const) {
    if (`log.${key}` in rest) {
      found[key] = rest[`log.${key}`];
      delete rest[`log.${key}`];
    }
  }
  const nested = rest.log;
  if (nested !== null && typeof nested === 'object' && !Array.isArray(nested)) {
    const { format, level, ...others } = nested as Record<string, unknown>;
    found.format ??= format;
    found.level ??= level;
    if (Object.keys(others).length === 0) delete rest.log;
    else rest.log = others;
  }
  const log: { format?: LogFormat; level?: LogLevelName } = {};
  if (found.format !== undefined) {
    if (!LOG_FORMATS.includes(found.format as LogFormat))
      throw new ConfigError(file, 'log.format', `must be text or json, got ${JSON.stringify(found.format)}`);
    log.format = found.format as LogFormat;
  }
  if (found.level !== undefined) {
    const level = typeof found.level === 'string' ? LEVEL_NAMES.get(found.level) : undefined;
    if (level === undefined)
      throw new ConfigError(
        file,
        'log.level',
        `must be one of ${LOG_LEVEL_NAMES.join(', ')}, got ${JSON.stringify(found.level)}`,
      );
    log.level = level;
  }
  return { log, rest: rest as T };
}

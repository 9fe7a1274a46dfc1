import { Option, type Command } from 'commander';
import { LOG_FORMATS, LOG_LEVEL_NAMES } from '../logging/log-settings';

/** A mistake on the command line: printed as `tributary: <message>`, exit code 2. */
export class UsageError extends Error {}

type Parser<T> = (value: string, previous: T | undefined) => T;

/** Parsers of options that may be given more than once; every other option refuses a repeat. */
const REPEATABLE = new WeakSet<Parser<unknown>>();

function repeatable<T>(parse: Parser<T>): Parser<T> {
  REPEATABLE.add(parse as Parser<unknown>);
  return parse;
}

export function isRepeatable(parse: Parser<unknown> | undefined): boolean {
  return parse !== undefined && REPEATABLE.has(parse);
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export function parseHostPort(value: string, flag: string): HostPort {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(value);
  if (m === null || Number(m[2]) > 65535) throw new UsageError(`${flag} ${value}: expected HOST:PORT`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** HOST:PORT, checked as the option is read. */
export const hostPort =
  (flag: string): Parser<HostPort> =>
  (value) =>
    parseHostPort(value, flag);

/** An integer of at least `min`. */
export const integer =
  (flag: string, min: number): Parser<number> =>
  (value) => {
    if (!/^-?\d+$/.test(value) || Number(value) < min)
      throw new UsageError(`${flag} must be an integer >= ${min}, got ${value}`);
    return Number(value);
  };

/** A repeatable KEY=VALUE option, collected into one map. */
export const keyValues = (flag: string): Parser<Record<string, string>> =>
  repeatable((kv, previous) => {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag} ${kv}: expected KEY=VALUE`);
    return { ...previous, [kv.slice(0, eq)]: kv.slice(eq + 1) };
  });

/** A repeatable option, its values in order. */
export const many = (): Parser<string[]> => repeatable((value, previous) => [...(previous ?? []), value]);

/** The --log-format and --log-level options of a command that runs something. */
export function withLogOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--log-format <FORMAT>',
        'text (coloured only on a terminal) or json (one object per line); default text, or log.format of the config file',
      )
        .choices(LOG_FORMATS)
        .helpGroup('Logging:'),
    )
    .addOption(
      new Option(
        '--log-level <LEVEL>',
        'the lowest level written; default info, or log.level of the config file',
      )
        .choices(LOG_LEVEL_NAMES)
        .helpGroup('Logging:'),
    );
}

import fs from 'node:fs';
import { parse } from 'yaml';
import { ConfigError } from '@tributary/broker';
import {
  ConsoleConfigError,
  parseConsoleConfig,
  type ConsoleConfig,
  type ConsoleConfigOptions,
} from '@tributary/console';
import { takeLogSettings, type LogSettings } from './logging/log-settings';

/** The document of a YAML config file; a file that cannot be read or parsed is `fail`ed naming the file. */
export function readYaml(file: string, fail: (key: string, problem: string) => Error): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw fail('(file)', `cannot be read: ${(err as Error).message}`);
  }
  try {
    return parse(text);
  } catch (err) {
    throw fail('(yaml)', (err as Error).message.split('\n')[0]);
  }
}

/**
 * Reads a broker's YAML config file. Keys are Kafka's dotted names; nested maps are accepted
 * and flattened ({log: {dirs: x}} is log.dirs). log.format and log.level, the process' logging,
 * come back apart. Errors name the file and the key.
 */
export function readConfigFile(file: string): {
  readonly values: Record<string, unknown>;
  readonly log: Partial<LogSettings>;
} {
  const doc = readYaml(file, (key, problem) => new ConfigError(file, key, problem));
  if (doc === null || doc === undefined) return { values: {}, log: {} };
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(file, '(top level)', 'must be a map of config keys to values');
  }
  const { log, rest } = takeLogSettings(flattenConfig(doc as Record<string, unknown>), file);
  return { values: rest, log };
}

/** Reads a console config file and its log settings; errors name the file and the key. */
export function readConsoleFile(
  file: string,
  options: ConsoleConfigOptions = {},
): { config: ConsoleConfig; log: Partial<LogSettings> } {
  const { log, rest } = takeLogSettings(
    readYaml(file, (key, problem) => new ConsoleConfigError(file, key, problem)),
    file,
  );
  return { config: parseConsoleConfig(rest, file, options), log };
}

/** Nested maps become dotted keys ({log: {dirs: x}} is log.dirs); lists and scalars stay values. */
export function flattenConfig(doc: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const flatten = (prefix: string, value: unknown): void => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) flatten(prefix === '' ? k : `${prefix}.${k}`, v);
    } else {
      out[prefix] = value;
    }
  };
  flatten('', doc);
  return out;
}

import fs from 'node:fs';
import { parse } from 'yaml';
import { ConfigError } from '@tributary/broker';

/**
 * Reads a YAML config file. Keys are Kafka's dotted names; nested maps are accepted and
 * flattened ({log: {dirs: x}} is log.dirs). Errors name the file and the key.
 */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, '(file)', `cannot be read: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ConfigError(file, '(yaml)', (err as Error).message.split('\n')[0]);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(file, '(top level)', 'must be a map of config keys to values');
  }
  return flattenConfig(doc as Record<string, unknown>);
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

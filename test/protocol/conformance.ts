import fs from 'node:fs';
import path from 'node:path';
import {
  inRange,
  parseVersions,
  type ApiDefinition,
  type Field,
  type Fields,
  type MessageDefinition,
  type ScalarField,
  type StructField,
  type VersionRange,
} from '@tributary/protocol';

/**
 * Compares our declarative API definitions with Kafka's message JSON (the files Kafka
 * generates its Java codecs from), version by version: for every version we implement, the
 * fields on the wire, their order, types, nullability, tags and defaults must be Kafka's.
 * The round-trip tests cannot catch a wrong definition, since they encode and decode with
 * the same one; this does.
 */

/** A field as Kafka's message JSON writes it. */
export interface KafkaField {
  readonly name: string;
  readonly type: string;
  readonly versions?: string;
  readonly nullableVersions?: string;
  readonly taggedVersions?: string;
  readonly tag?: number;
  readonly default?: string | number | boolean;
  readonly flexibleVersions?: string;
  readonly fields?: readonly KafkaField[];
}

/** One Kafka message JSON file. */
export interface KafkaSpec {
  readonly apiKey?: number;
  /** "request", "response", "data", "header", ... */
  readonly type: string;
  readonly name: string;
  readonly validVersions: string;
  readonly flexibleVersions: string;
  readonly fields: readonly KafkaField[];
  readonly commonStructs?: readonly { name: string; versions?: string; fields: readonly KafkaField[] }[];
}

export type DifferenceKind =
  | 'schema'
  | 'validVersions'
  | 'flexibleVersions'
  | 'missing'
  | 'extra'
  | 'versions'
  | 'type'
  | 'nullable'
  | 'tag'
  | 'order'
  | 'default';

export interface Difference {
  /** Our definition's name: "Fetch", "ConsumerProtocolSubscription". */
  readonly api: string;
  /** "request.topics[].partitions[].currentLeaderEpoch"; "" for the whole API. */
  readonly path: string;
  readonly what: DifferenceKind;
  readonly detail: string;
}

/** A difference we keep on purpose, and why. */
export interface AllowEntry {
  readonly api: string;
  readonly path: string;
  readonly what: DifferenceKind;
  readonly reason: string;
}

/** Kafka's JSON allows // comments; strips them, leaving string contents alone. */
export function stripComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else out += c;
  }
  return out;
}

export function parseKafkaSpec(text: string, file = 'message'): KafkaSpec {
  try {
    return JSON.parse(stripComments(text)) as KafkaSpec;
  } catch (err) {
    throw new Error(`${file}: not a Kafka message definition: ${(err as Error).message}`);
  }
}

/** Every *.json message definition in a directory of Kafka's message files. */
export function readKafkaSpecs(dir: string): KafkaSpec[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => parseKafkaSpec(fs.readFileSync(path.join(dir, f), 'utf8'), path.join(dir, f)));
}

type OurField = ScalarField | StructField;

function normalise(field: Field): OurField {
  return typeof field === 'string' ? { type: field } : field;
}

/** "RecordsToDelete" -> "recordsToDelete", the way our definitions name Kafka's fields. */
function camel(name: string): string {
  return name[0].toLowerCase() + name.slice(1);
}

/** "v0-3, v7" for a sorted list of versions. */
function formatVersions(versions: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < versions.length; i++) {
    let j = i;
    while (j + 1 < versions.length && versions[j + 1] === versions[j] + 1) j++;
    parts.push(j === i ? `v${versions[i]}` : `v${versions[i]}-${versions[j]}`);
    i = j;
  }
  return parts.join(', ');
}

/** "tag 0 in v2-3, untagged in v4": the versions grouped by what a field is in each. */
function byValue(versions: readonly number[], valueIn: (v: number) => string): string {
  const groups = new Map<string, number[]>();
  for (const v of versions) groups.set(valueIn(v), [...(groups.get(valueIn(v)) ?? []), v]);
  return [...groups].map(([value, vs]) => `${value} in ${formatVersions(vs)}`).join(', ');
}

function versionsIn(range: VersionRange, within: readonly number[]): number[] {
  return within.filter((v) => inRange(range, v));
}

function rangeList(spec: string, cap: number): number[] {
  const r = parseVersions(spec);
  const out: number[] = [];
  for (let v = r.min; v <= Math.min(r.max, cap); v++) out.push(v);
  return out;
}

/** Kafka's field types in our notation: "[]Foo" with fields -> "struct[]", "[]int32" -> "int32[]". */
const PRIMITIVES = new Set([
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'bool',
  'string',
  'bytes',
  'records',
  'uuid',
]);

interface ResolvedKafkaField extends KafkaField {
  /** Our notation of the type. */
  readonly ourType: string;
}

function resolveType(field: KafkaField, spec: KafkaSpec): ResolvedKafkaField {
  const array = field.type.startsWith('[]');
  const element = array ? field.type.slice(2) : field.type;
  if (PRIMITIVES.has(element)) return { ...field, ourType: array ? `${element}[]` : element };
  const common = spec.commonStructs?.find((s) => s.name === element);
  const fields = field.fields ?? common?.fields;
  if (fields === undefined) throw new Error(`${spec.name}: ${field.name} has unknown type ${field.type}`);
  return { ...field, fields, ourType: array ? 'struct[]' : 'struct' };
}

/** A default value as text, so that ours (JS values) and Kafka's (JSON strings) compare. */
function show(value: unknown): string {
  if (value === null) return 'null';
  if (Buffer.isBuffer(value)) return value.length === 0 ? 'empty bytes' : `bytes ${value.toString('hex')}`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
const STRUCT = '{struct}';

/** Kafka's default for a field, by its generator's rules (FieldSpec.fieldDefault). */
function kafkaDefault(field: ResolvedKafkaField): string {
  const d = field.default === undefined ? '' : String(field.default);
  const t = field.ourType;
  if (t.endsWith('[]')) return d === 'null' ? 'null' : '[]';
  if (t === 'struct') return d === 'null' ? 'null' : STRUCT;
  switch (t) {
    case 'bool':
      return d === '' ? 'false' : d.toLowerCase();
    case 'string':
      return d === 'null' ? 'null' : JSON.stringify(d);
    case 'bytes':
      return d === 'null' ? 'null' : 'empty bytes';
    case 'records':
      return 'null';
    case 'uuid':
      return d === '' ? JSON.stringify(ZERO_UUID) : JSON.stringify(d);
    case 'float64':
      return d === '' ? '0' : String(Number(d));
    default:
      return d === '' ? '0' : String(Number(d));
  }
}

/** Our default for a field in one version, exactly as codec.ts computes it. */
function ourDefault(field: OurField, nullable: boolean): string {
  if (field.type === 'struct') return nullable && field.default === null ? 'null' : STRUCT;
  if (field.default !== undefined) return show(field.default);
  if (field.type.endsWith('[]')) return '[]';
  switch (field.type) {
    case 'bool':
      return 'false';
    case 'string':
      return nullable ? 'null' : '""';
    case 'bytes':
      return nullable ? 'null' : 'empty bytes';
    case 'records':
      return 'null';
    case 'uuid':
      return JSON.stringify(ZERO_UUID);
    default:
      return '0';
  }
}

interface Context {
  readonly api: string;
  readonly spec: KafkaSpec;
  readonly isFlexible: (v: number) => boolean;
  readonly out: Difference[];
}

function report(ctx: Context, path: string, what: DifferenceKind, detail: string): void {
  ctx.out.push({ api: ctx.api, path, what, detail });
}

/** Where a field is tagged, in one version: its tag, or undefined. */
function tagIn(
  tag: number | undefined,
  taggedVersions: string | undefined,
  v: number,
  flexible: boolean,
): number | undefined {
  if (tag === undefined || !flexible) return undefined;
  return inRange(parseVersions(taggedVersions, 'none'), v) ? tag : undefined;
}

function compareStruct(
  ctx: Context,
  prefix: string,
  ours: Fields,
  kafka: readonly KafkaField[],
  versions: readonly number[],
): void {
  const theirs = new Map(kafka.map((f) => [camel(f.name), resolveType(f, ctx.spec)]));
  const mine = new Map(Object.entries(ours).map(([name, f]) => [name, normalise(f)]));
  const at = (name: string) => (prefix === '' ? name : `${prefix}.${name}`);

  for (const [name, k] of theirs) {
    const kPresent = versionsIn(parseVersions(k.versions), versions);
    const o = mine.get(name);
    if (o === undefined) {
      if (kPresent.length > 0)
        report(ctx, at(name), 'missing', `Kafka has ${k.type} in ${formatVersions(kPresent)}`);
      continue;
    }
    compareField(ctx, at(name), o, k, versions);
  }
  for (const [name, o] of mine) {
    if (theirs.has(name)) continue;
    const oPresent = versionsIn(parseVersions(o.versions), versions);
    if (oPresent.length > 0)
      report(ctx, at(name), 'extra', `not in Kafka's schema, ours has it in ${formatVersions(oPresent)}`);
  }
  compareOrder(ctx, prefix, mine, theirs, versions);
}

function compareField(
  ctx: Context,
  path: string,
  o: OurField,
  k: ResolvedKafkaField,
  versions: readonly number[],
): void {
  const oPresent = versionsIn(parseVersions(o.versions), versions);
  const kPresent = versionsIn(parseVersions(k.versions), versions);
  if (oPresent.join() !== kPresent.join()) {
    report(
      ctx,
      path,
      'versions',
      `present in ${formatVersions(oPresent) || 'no version'}, Kafka in ${formatVersions(kPresent) || 'no version'}`,
    );
  }
  if (o.type !== k.ourType) {
    report(ctx, path, 'type', `${o.type}, Kafka ${k.type}`);
    return;
  }
  const both = oPresent.filter((v) => kPresent.includes(v));
  const oNullable = (v: number) => o.nullable !== undefined && inRange(parseVersions(o.nullable), v);
  const kNullable = (v: number) => inRange(parseVersions(k.nullableVersions, 'none'), v);
  const nullDiff = both.filter((v) => oNullable(v) !== kNullable(v));
  if (nullDiff.length > 0) {
    report(
      ctx,
      path,
      'nullable',
      `nullable in ${formatVersions(both.filter(oNullable)) || 'no version'}, Kafka in ${formatVersions(both.filter(kNullable)) || 'no version'}`,
    );
  }
  const oTag = (v: number) => tagIn(o.tag, o.taggedVersions, v, ctx.isFlexible(v));
  const kTag = (v: number) => tagIn(k.tag, k.taggedVersions, v, ctx.isFlexible(v));
  const tagDiff = both.filter((v) => oTag(v) !== kTag(v));
  if (tagDiff.length > 0) {
    const describe = (tag: (v: number) => number | undefined) =>
      byValue(tagDiff, (v) => (tag(v) === undefined ? 'untagged' : `tag ${tag(v)}`));
    report(ctx, path, 'tag', `${describe(oTag)}; Kafka ${describe(kTag)}`);
  }
  compareDefault(ctx, path, o, k, versions, oNullable, (v) => kTag(v) !== undefined);
  if (k.ourType === 'struct' || k.ourType === 'struct[]') {
    compareStruct(
      ctx,
      `${path}${k.ourType === 'struct[]' ? '[]' : ''}`,
      (o as StructField).fields,
      k.fields ?? [],
      both,
    );
  }
  if (k.flexibleVersions !== undefined) {
    const own = parseVersions(k.flexibleVersions);
    const differs = both.filter((v) => ctx.isFlexible(v) && !inRange(own, v));
    if (differs.length > 0) {
      report(ctx, path, 'flexibleVersions', `Kafka encodes it non-flexibly in ${formatVersions(differs)}`);
    }
  }
}

/**
 * Defaults matter on the wire for tagged fields (left out when at their default) and, to
 * handlers, wherever a field is absent from a version. One difference is harmless: where
 * neither side names a default, the codec defaults a nullable string or bytes to null and
 * Kafka to empty, which never reaches the wire for an untagged field present in the version.
 */
function compareDefault(
  ctx: Context,
  path: string,
  o: OurField,
  k: ResolvedKafkaField,
  versions: readonly number[],
  oNullable: (v: number) => boolean,
  kTagged: (v: number) => boolean,
): void {
  const explicit = o.default !== undefined || (k.default !== undefined && String(k.default) !== '');
  const expected = kafkaDefault(k);
  const harmless = (v: number, actual: string) =>
    !explicit &&
    !kTagged(v) &&
    oNullable(v) &&
    actual === 'null' &&
    (expected === '""' || expected === 'empty bytes');
  const differs = versions.filter((v) => {
    const actual = ourDefault(o, oNullable(v));
    return actual !== expected && !harmless(v, actual);
  });
  if (differs.length === 0) return;
  const actual = byValue(differs, (v) => ourDefault(o, oNullable(v)));
  report(ctx, path, 'default', `${actual}, Kafka ${expected}`);
}

/** The order of the untagged fields both sides have, in each version. */
function compareOrder(
  ctx: Context,
  prefix: string,
  mine: Map<string, OurField>,
  theirs: Map<string, ResolvedKafkaField>,
  versions: readonly number[],
): void {
  const bad: number[] = [];
  let example = '';
  for (const v of versions) {
    const flexible = ctx.isFlexible(v);
    const onWire = (name: string) => {
      const o = mine.get(name);
      const k = theirs.get(name);
      return (
        o !== undefined &&
        k !== undefined &&
        inRange(parseVersions(o.versions), v) &&
        inRange(parseVersions(k.versions), v) &&
        tagIn(o.tag, o.taggedVersions, v, flexible) === undefined &&
        tagIn(k.tag, k.taggedVersions, v, flexible) === undefined
      );
    };
    const ourOrder = [...mine.keys()].filter(onWire);
    const kafkaOrder = [...theirs.keys()].filter(onWire);
    if (ourOrder.join() !== kafkaOrder.join()) {
      bad.push(v);
      example ||= `ours ${ourOrder.join(', ')}; Kafka ${kafkaOrder.join(', ')}`;
    }
  }
  if (bad.length > 0) report(ctx, prefix, 'order', `in ${formatVersions(bad)}: ${example}`);
}

function compareVersions(
  ctx: Context,
  ours: { versions: string; flexibleVersions: string },
  specs: readonly KafkaSpec[],
): number[] {
  const oursList = rangeList(ours.versions, 1000);
  let implemented = oursList;
  for (const spec of specs) {
    const valid = parseVersions(spec.validVersions);
    const outside = oursList.filter((v) => !inRange(valid, v));
    if (outside.length > 0) {
      report(
        ctx,
        '',
        'validVersions',
        `implements ${formatVersions(outside)}, outside Kafka's ${spec.name} ${spec.validVersions}`,
      );
    }
    implemented = implemented.filter((v) => inRange(valid, v));
    const kFlexible = parseVersions(spec.flexibleVersions);
    const oFlexible = parseVersions(ours.flexibleVersions);
    const differs = implemented.filter((v) => inRange(kFlexible, v) !== inRange(oFlexible, v));
    if (differs.length > 0) {
      report(
        ctx,
        '',
        'flexibleVersions',
        `flexible ${ours.flexibleVersions}, Kafka's ${spec.name} ${spec.flexibleVersions} (differ in ${formatVersions(differs)})`,
      );
    }
  }
  return implemented;
}

/** Compares one API with Kafka's request and response files (undefined: Kafka has none). */
export function compareApi(
  api: ApiDefinition,
  request: KafkaSpec | undefined,
  response: KafkaSpec | undefined,
): Difference[] {
  const out: Difference[] = [];
  if (request === undefined || response === undefined) {
    out.push({ api: api.name, path: '', what: 'schema', detail: `Kafka has no API key ${api.apiKey}` });
    return out;
  }
  const flexible = parseVersions(api.flexibleVersions);
  const ctx: Context = { api: api.name, spec: request, isFlexible: (v) => inRange(flexible, v), out };
  const versions = compareVersions(ctx, api, [request, response]);
  compareStruct(ctx, 'request', api.request, request.fields, versions);
  compareStruct({ ...ctx, spec: response }, 'response', api.response, response.fields, versions);
  return out;
}

/** Compares a versioned data structure (the consumer protocol, ...) with Kafka's file. */
export function compareMessage(def: MessageDefinition, spec: KafkaSpec | undefined): Difference[] {
  const out: Difference[] = [];
  if (spec === undefined) {
    out.push({ api: def.name, path: '', what: 'schema', detail: `Kafka has no message ${def.name}` });
    return out;
  }
  const flexible = parseVersions(def.flexibleVersions);
  const ctx: Context = { api: def.name, spec, isFlexible: (v) => inRange(flexible, v), out };
  const versions = compareVersions(ctx, def, [spec]);
  compareStruct(ctx, '', def.fields, spec.fields, versions);
  return out;
}

/** Every difference between our definitions and Kafka's files. */
export function checkConformance(
  apis: readonly ApiDefinition[],
  messages: readonly MessageDefinition[],
  specs: readonly KafkaSpec[],
): Difference[] {
  const byKey = (type: string, key: number) => specs.find((s) => s.type === type && s.apiKey === key);
  return [
    ...apis.flatMap((api) => compareApi(api, byKey('request', api.apiKey), byKey('response', api.apiKey))),
    ...messages.flatMap((m) =>
      compareMessage(
        m,
        specs.find((s) => s.type === 'data' && s.name === m.name),
      ),
    ),
  ];
}

export interface Verdict {
  /** Differences the allow-list does not excuse. */
  readonly failures: Difference[];
  readonly allowed: { difference: Difference; reason: string }[];
  /** Allow-list entries that excuse nothing: stale, so they fail too. */
  readonly unused: AllowEntry[];
}

export function applyAllowList(differences: readonly Difference[], allow: readonly AllowEntry[]): Verdict {
  const used = new Set<AllowEntry>();
  const failures: Difference[] = [];
  const allowed: { difference: Difference; reason: string }[] = [];
  for (const d of differences) {
    const entry = allow.find((e) => e.api === d.api && e.path === d.path && e.what === d.what);
    if (entry === undefined) failures.push(d);
    else {
      used.add(entry);
      allowed.push({ difference: d, reason: entry.reason });
    }
  }
  return { failures, allowed, unused: allow.filter((e) => !used.has(e)) };
}

const KINDS = new Set<string>([
  'schema',
  'validVersions',
  'flexibleVersions',
  'missing',
  'extra',
  'versions',
  'type',
  'nullable',
  'tag',
  'order',
  'default',
]);

/** Reads the allow-list, refusing an entry without a reason or with an unknown kind. */
export function readAllowList(file: string): AllowEntry[] {
  const data = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  const entries = (data as { allow?: unknown }).allow;
  if (!Array.isArray(entries)) throw new Error(`${file}: expected {"allow": [...]}`);
  return entries.map((e: Partial<AllowEntry>, i) => {
    const where = `${file}: allow[${i}]`;
    if (typeof e.api !== 'string' || e.api === '') throw new Error(`${where}: "api" must name an API`);
    if (typeof e.path !== 'string')
      throw new Error(`${where}: "path" must be a string ("" for the whole API)`);
    if (typeof e.what !== 'string' || !KINDS.has(e.what)) {
      throw new Error(`${where}: "what" must be one of ${[...KINDS].join(', ')}`);
    }
    if (typeof e.reason !== 'string' || e.reason.trim() === '') {
      throw new Error(`${where}: "reason" must say why the difference is deliberate`);
    }
    return { api: e.api, path: e.path, what: e.what, reason: e.reason };
  });
}

export function formatDifference(d: Difference): string {
  return `${d.api}${d.path === '' ? '' : ` ${d.path}`}: ${d.what}: ${d.detail}`;
}

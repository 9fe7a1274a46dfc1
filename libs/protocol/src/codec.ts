import { ErrorCode } from './error-codes';
import { KafkaProtocolError } from './errors';
import { inRange, parseVersions, VersionRange } from './primitives/versions';
import { Reader } from './primitives/reader';
import { Writer } from './primitives/writer';
import type {
  ApiDefinition,
  Field,
  Fields,
  MessageDefinition,
  Primitive,
  ScalarField,
  StructField,
  ValueInput,
  ValueOf,
} from './schema';

/**
 * Compiles a declarative definition into a decoder and an encoder for one version. Each
 * (API, version, direction) is compiled once and cached, so the hot path runs plain
 * closures over Reader and Writer with no per-call look-ups of the schema.
 */
export interface StructCodec {
  decode(r: Reader): Record<string, unknown>;
  /** A value with every field at its default. */
  defaults(): Record<string, unknown>;
  encode(w: Writer, value: Record<string, unknown> | undefined): void;
}

type Read = (r: Reader) => unknown;
type Write = (w: Writer, v: unknown) => void;

interface CompiledField {
  readonly name: string;
  readonly read: Read;
  readonly write: Write;
  readonly makeDefault: () => unknown;
  readonly tag?: number;
}

function normalise(field: Field): ScalarField | StructField {
  return typeof field === 'string' ? { type: field } : field;
}

function isNullable(f: ScalarField | StructField, version: number): boolean {
  return f.nullable !== undefined && inRange(parseVersions(f.nullable), version);
}

function primitiveDefault(type: Primitive, nullable: boolean): unknown {
  switch (type) {
    case 'bool':
      return false;
    case 'string':
      return nullable ? null : '';
    case 'bytes':
      return nullable ? null : Buffer.alloc(0);
    case 'records':
      return null;
    case 'uuid':
      return 'AAAAAAAAAAAAAAAAAAAAAA';
    default:
      return 0;
  }
}

function primitiveReader(type: Primitive, nullable: boolean, flexible: boolean): Read {
  switch (type) {
    case 'int8':
      return (r) => r.int8();
    case 'int16':
      return (r) => r.int16();
    case 'uint16':
      return (r) => r.uint16();
    case 'int32':
      return (r) => r.int32();
    case 'uint32':
      return (r) => r.uint32();
    case 'int64':
      return (r) => r.int64();
    case 'float64':
      return (r) => r.float64();
    case 'bool':
      return (r) => r.bool();
    case 'uuid':
      return (r) => r.uuid();
    case 'string':
      if (flexible) return nullable ? (r) => r.compactNullableString() : (r) => r.compactString();
      return nullable ? (r) => r.nullableString() : (r) => r.string();
    case 'bytes':
    case 'records':
      if (flexible) return nullable ? (r) => r.compactNullableBytes() : (r) => r.compactBytes();
      return nullable ? (r) => r.nullableBytes() : (r) => r.bytes();
  }
}

function primitiveWriter(type: Primitive, nullable: boolean, flexible: boolean): Write {
  switch (type) {
    case 'int8':
      return (w, v) => w.int8(v as number);
    case 'int16':
      return (w, v) => w.int16(v as number);
    case 'uint16':
      return (w, v) => w.uint16(v as number);
    case 'int32':
      return (w, v) => w.int32(v as number);
    case 'uint32':
      return (w, v) => w.uint32(v as number);
    case 'int64':
      return (w, v) => w.int64(v as number);
    case 'float64':
      return (w, v) => w.float64(v as number);
    case 'bool':
      return (w, v) => w.bool(v as boolean);
    case 'uuid':
      return (w, v) => w.uuid(v as string);
    case 'string':
      if (flexible)
        return nullable
          ? (w, v) => w.compactNullableString(v as string | null)
          : (w, v) => w.compactString(v as string);
      return nullable ? (w, v) => w.nullableString(v as string | null) : (w, v) => w.string(v as string);
    case 'bytes':
    case 'records':
      if (flexible)
        return nullable
          ? (w, v) => w.compactNullableBytes(v as Buffer | null)
          : (w, v) => w.compactBytes(v as Buffer);
      return nullable ? (w, v) => w.nullableBytes(v as Buffer | null) : (w, v) => w.bytes(v as Buffer);
  }
}

function arrayReader(item: Read, nullable: boolean, flexible: boolean, name: string): Read {
  return (r) => {
    const n = r.arrayLength(flexible);
    if (n < 0) {
      if (nullable) return null;
      throw KafkaProtocolError.invalidRequest(`non-nullable array ${name} is null`);
    }
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = item(r);
    return out;
  };
}

function arrayWriter(item: Write, nullable: boolean, flexible: boolean): Write {
  return (w, v) => {
    if (v === null || v === undefined) {
      if (nullable) {
        if (flexible) w.uvarint(0);
        else w.int32(-1);
        return;
      }
      v = [];
    }
    const arr = v as unknown[];
    if (flexible) w.uvarint(arr.length + 1);
    else w.int32(arr.length);
    for (let i = 0; i < arr.length; i++) item(w, arr[i]);
  };
}

function compileField(name: string, raw: Field, version: number, flexible: boolean): CompiledField {
  const f = normalise(raw);
  const nullable = isNullable(f, version);
  const hasDefault = f.default !== undefined;
  let read: Read;
  let write: Write;
  let makeDefault: () => unknown;
  if (f.type === 'struct' || f.type === 'struct[]') {
    const inner = compileStruct(f.fields, version, flexible);
    if (f.type === 'struct[]') {
      read = arrayReader((r) => inner.decode(r), nullable, flexible, name);
      write = arrayWriter((w, v) => inner.encode(w, v as Record<string, unknown>), nullable, flexible);
      makeDefault = () => (nullable && f.default === null ? null : []);
    } else {
      read = nullable ? (r) => (r.int8() < 0 ? null : inner.decode(r)) : (r) => inner.decode(r);
      write = nullable
        ? (w, v) => {
            if (v === null || v === undefined) w.int8(-1);
            else {
              w.int8(1);
              inner.encode(w, v as Record<string, unknown>);
            }
          }
        : (w, v) => inner.encode(w, v as Record<string, unknown> | undefined);
      makeDefault = () => (nullable && f.default === null ? null : inner.defaults());
    }
  } else if (f.type.endsWith('[]')) {
    const itemType = f.type.slice(0, -2) as Primitive;
    read = arrayReader(primitiveReader(itemType, false, flexible), nullable, flexible, name);
    write = arrayWriter(primitiveWriter(itemType, false, flexible), nullable, flexible);
    makeDefault = () => (nullable && f.default === null ? null : []);
  } else {
    const type = f.type as Primitive;
    read = primitiveReader(type, nullable, flexible);
    const writeValue = primitiveWriter(type, nullable, flexible);
    const fallback = hasDefault ? f.default : primitiveDefault(type, nullable);
    write = (w, v) => writeValue(w, v === undefined ? fallback : v);
    makeDefault = () => fallback;
  }
  if (hasDefault && (f.type === 'struct[]' || f.type.endsWith('[]'))) {
    const d = f.default;
    makeDefault = () => (Array.isArray(d) ? d.slice() : d);
  }
  const tagged = f.tag !== undefined && inRange(parseVersions(f.taggedVersions, 'none'), version);
  return { name, read, write, makeDefault, tag: tagged ? f.tag : undefined };
}

function compileStruct(fields: Fields, version: number, flexible: boolean): StructCodec {
  const present: CompiledField[] = [];
  const absent: CompiledField[] = [];
  const tagged = new Map<number, CompiledField>();
  for (const [name, raw] of Object.entries(fields)) {
    const f = normalise(raw);
    const compiled = compileField(name, raw, version, flexible);
    if (!inRange(parseVersions(f.versions), version)) absent.push(compiled);
    else if (compiled.tag !== undefined && flexible) tagged.set(compiled.tag, compiled);
    else present.push(compiled);
  }
  const taggedList = [...tagged.values()].sort((a, b) => (a.tag as number) - (b.tag as number));

  const decode = (r: Reader): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < present.length; i++) out[present[i].name] = present[i].read(r);
    for (const f of taggedList) out[f.name] = f.makeDefault();
    if (flexible) readTaggedFields(r, tagged, out);
    for (const f of absent) out[f.name] = f.makeDefault();
    return out;
  };

  const defaults = (): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const f of [...present, ...taggedList, ...absent]) out[f.name] = f.makeDefault();
    return out;
  };

  const encode = (w: Writer, value: Record<string, unknown> | undefined): void => {
    const v = value ?? {};
    for (let i = 0; i < present.length; i++) present[i].write(w, v[present[i].name]);
    if (flexible) writeTaggedFields(w, taggedList, v);
  };
  return { decode, encode, defaults };
}

function readTaggedFields(r: Reader, known: Map<number, CompiledField>, out: Record<string, unknown>): void {
  const count = r.uvarint();
  for (let i = 0; i < count; i++) {
    const tag = r.uvarint();
    const size = r.uvarint();
    const field = known.get(tag);
    if (field === undefined) {
      r.skip(size);
      continue;
    }
    const end = r.offset + size;
    if (end > r.end) throw KafkaProtocolError.invalidRequest(`tagged field ${tag} overruns the message`);
    out[field.name] = field.read(new Reader(r.buf, r.offset, end));
    r.offset = end;
  }
}

function writeTaggedFields(w: Writer, fields: CompiledField[], v: Record<string, unknown>): void {
  const set = fields.filter((f) => {
    const value = v[f.name];
    if (value === undefined) return false;
    const d = f.makeDefault();
    return !(value === d || (Array.isArray(value) && value.length === 0 && Array.isArray(d)));
  });
  w.uvarint(set.length);
  for (const f of set) {
    const sub = new Writer(64);
    f.write(sub, v[f.name]);
    w.uvarint(f.tag as number);
    w.uvarint(sub.length);
    for (const chunk of sub.chunksOut()) w.raw(chunk);
  }
}

export interface VersionedCodec {
  readonly version: number;
  readonly flexible: boolean;
  readonly request: StructCodec;
  readonly response: StructCodec;
}

const cache = new WeakMap<ApiDefinition, Map<number, VersionedCodec>>();

export function supportedVersions(api: ApiDefinition): VersionRange {
  return parseVersions(api.versions);
}

export function isFlexible(api: ApiDefinition, version: number): boolean {
  return inRange(parseVersions(api.flexibleVersions), version);
}

/** The compiled codec for one version of an API, or UNSUPPORTED_VERSION. */
export function codecFor(api: ApiDefinition, version: number): VersionedCodec {
  let byVersion = cache.get(api);
  if (byVersion === undefined) {
    byVersion = new Map();
    cache.set(api, byVersion);
  }
  let codec = byVersion.get(version);
  if (codec === undefined) {
    if (!inRange(supportedVersions(api), version)) {
      throw new KafkaProtocolError(
        ErrorCode.UNSUPPORTED_VERSION,
        `${api.name} v${version} is not supported (supported: ${api.versions})`,
      );
    }
    const flexible = isFlexible(api, version);
    codec = {
      version,
      flexible,
      request: compileStruct(api.request, version, flexible),
      response: compileStruct(api.response, version, flexible),
    };
    byVersion.set(version, codec);
  }
  return codec;
}

const messageCache = new WeakMap<MessageDefinition, Map<number, StructCodec>>();

function messageCodec(def: MessageDefinition, version: number): StructCodec {
  let byVersion = messageCache.get(def);
  if (byVersion === undefined) {
    byVersion = new Map();
    messageCache.set(def, byVersion);
  }
  let codec = byVersion.get(version);
  if (codec === undefined) {
    const flexible = inRange(parseVersions(def.flexibleVersions), version);
    codec = compileStruct(def.fields, version, flexible);
    byVersion.set(version, codec);
  }
  return codec;
}

/** Encodes a versioned data structure: int16 version, then its fields. */
export function encodeMessage<M extends MessageDefinition>(
  def: M,
  version: number,
  value: ValueInput<M>,
): Buffer {
  if (!inRange(parseVersions(def.versions), version)) {
    throw new KafkaProtocolError(
      ErrorCode.UNSUPPORTED_VERSION,
      `${def.name} v${version} is not supported (supported: ${def.versions})`,
    );
  }
  const w = new Writer(64);
  w.int16(version);
  messageCodec(def, version).encode(w, value);
  return w.toBuffer();
}

/**
 * Decodes a versioned data structure. A version newer than ours is read as our newest, as
 * Kafka does: later versions only add fields at the end, which are ignored.
 */
export function decodeMessage<M extends MessageDefinition>(
  def: M,
  buf: Buffer,
): { version: number; value: ValueOf<M> } {
  const r = new Reader(buf);
  const version = r.int16();
  const range = parseVersions(def.versions);
  if (version < range.min) {
    throw KafkaProtocolError.invalidRequest(
      `${def.name} v${version} is older than the supported ${def.versions}`,
    );
  }
  const value = messageCodec(def, Math.min(version, range.max)).decode(r) as ValueOf<M>;
  return { version, value };
}

/**
 * Encodes a structure's fields of `version` with no version prefix: formats whose version
 * lives elsewhere or nowhere (MirrorMaker 2's keys and offset syncs).
 */
export function encodeUnversioned<M extends MessageDefinition>(
  def: M,
  value: ValueInput<M>,
  version = 0,
): Buffer {
  const w = new Writer(64);
  messageCodec(def, version).encode(w, value);
  return w.toBuffer();
}

/** Decodes a structure written by encodeUnversioned; a truncated one is INVALID_REQUEST. */
export function decodeUnversioned<M extends MessageDefinition>(def: M, buf: Buffer, version = 0): ValueOf<M> {
  return messageCodec(def, version).decode(new Reader(buf)) as ValueOf<M>;
}

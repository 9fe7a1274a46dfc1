/**
 * The declarative form of a Kafka API, modelled on Kafka's own message JSON: one definition
 * per API holds every supported version; each field says in which versions it exists, is
 * nullable or is tagged. The codec compiles a definition once per version.
 *
 * A field is either a type name ("int32", "string[]") present in all versions, or an object
 * with the type and the version ranges ("3+", "0-4", "none"):
 *   { type: 'string', versions: '3+', nullable: '3+' }
 *   { type: 'struct[]', fields: { ... } }
 *   { type: 'string', versions: '12+', nullable: '12+', tag: 0, taggedVersions: '12+', default: null }
 */
export type Primitive =
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'bool'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid';

export type PrimitiveArray = `${Primitive}[]`;

interface FieldOptions {
  /** Versions in which the field exists (default "0+"). */
  readonly versions?: string;
  /** Versions in which the field may be null. */
  readonly nullable?: string;
  /** Tag number, for a field that is a tagged field in `taggedVersions`. */
  readonly tag?: number;
  readonly taggedVersions?: string;
  /** Value when absent from a version or from the tagged fields. */
  readonly default?: unknown;
}

export interface ScalarField extends FieldOptions {
  readonly type: Primitive | PrimitiveArray;
}

export interface StructField extends FieldOptions {
  readonly type: 'struct' | 'struct[]';
  readonly fields: Fields;
}

export type Field = Primitive | PrimitiveArray | ScalarField | StructField;
export type Fields = { readonly [name: string]: Field };

export interface ApiDefinition<Req extends Fields = Fields, Res extends Fields = Fields> {
  readonly apiKey: number;
  readonly name: string;
  /** The versions this project implements and advertises in ApiVersions. */
  readonly versions: string;
  /** Versions that use compact encodings and tagged fields. */
  readonly flexibleVersions: string;
  readonly request: Req;
  readonly response: Res;
}

export function defineApi<const Req extends Fields, const Res extends Fields>(
  def: ApiDefinition<Req, Res>,
): ApiDefinition<Req, Res> {
  return def;
}

type PrimitiveValue<P> = P extends 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'float64'
  ? number
  : P extends 'bool'
    ? boolean
    : P extends 'string' | 'uuid'
      ? string
      : P extends 'bytes' | 'records'
        ? Buffer
        : never;

type NullIf<F> = F extends { nullable: string } ? null : never;

type FieldValue<F> = F extends `${infer P}[]`
  ? PrimitiveValue<P>[]
  : F extends Primitive
    ? PrimitiveValue<F>
    : F extends { type: 'struct[]'; fields: infer S extends Fields }
      ? Message<S>[] | NullIf<F>
      : F extends { type: 'struct'; fields: infer S extends Fields }
        ? Message<S> | NullIf<F>
        : F extends { type: `${infer P}[]` }
          ? PrimitiveValue<P>[] | NullIf<F>
          : F extends { type: infer P }
            ? PrimitiveValue<P> | NullIf<F>
            : never;

type InputValue<F> = F extends { type: 'struct[]'; fields: infer S extends Fields }
  ? MessageInput<S>[] | NullIf<F>
  : F extends { type: 'struct'; fields: infer S extends Fields }
    ? MessageInput<S> | NullIf<F>
    : FieldValue<F>;

/** A decoded message: every field present (absent ones hold their defaults). */
export type Message<S extends Fields> = { -readonly [K in keyof S]: FieldValue<S[K]> };

/** A message to encode: fields may be left out and then take their defaults. */
export type MessageInput<S extends Fields> = { -readonly [K in keyof S]?: InputValue<S[K]> };

export type RequestOf<A> = A extends ApiDefinition<infer Req, Fields> ? Message<Req> : never;
export type ResponseOf<A> = A extends ApiDefinition<Fields, infer Res> ? Message<Res> : never;
export type RequestInput<A> = A extends ApiDefinition<infer Req, Fields> ? MessageInput<Req> : never;
export type ResponseInput<A> = A extends ApiDefinition<Fields, infer Res> ? MessageInput<Res> : never;

/**
 * A data structure that is not an API message but is versioned the same way: the consumer
 * protocol's subscription and assignment, __consumer_offsets keys and values, MirrorMaker
 * 2's records. Encoded as an int16 version followed by the fields of that version.
 */
export interface MessageDefinition<F extends Fields = Fields> {
  readonly name: string;
  readonly versions: string;
  readonly flexibleVersions: string;
  readonly fields: F;
}

export function defineMessage<const F extends Fields>(def: MessageDefinition<F>): MessageDefinition<F> {
  return def;
}

export type ValueOf<M> = M extends MessageDefinition<infer F> ? Message<F> : never;
export type ValueInput<M> = M extends MessageDefinition<infer F> ? MessageInput<F> : never;

/**
 * Request and response shapes as data: one definition validates a request (with messages that
 * name the field and say what is wrong) and is the OpenAPI schema of the same thing, so the
 * document and the checks cannot drift apart. Values from paths and query strings arrive as
 * text; integer and boolean schemas accept their text forms there.
 */

export type JsonSchema = { [key: string]: unknown };

export interface Issue {
  /** Where the value came from: path, query or body. */
  readonly location: string;
  /** Dotted path of the field ('' for the whole body). */
  readonly field: string;
  readonly problem: string;
}

interface ParseContext {
  readonly location: string;
  /** Path and query values are strings: numbers and booleans are parsed from text. */
  readonly fromText: boolean;
  readonly issues: Issue[];
}

const INVALID = Symbol('invalid');
type Parsed<T> = T | typeof INVALID;

export interface Schema<T> {
  readonly optional: boolean;
  readonly description?: string;
  json(): JsonSchema;
  parse(value: unknown, field: string, ctx: ParseContext): Parsed<T>;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

interface Common {
  readonly description?: string;
  readonly example?: unknown;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return value.length > 60 ? `"${value.slice(0, 57)}..."` : JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

function fail(ctx: ParseContext, field: string, problem: string): typeof INVALID {
  ctx.issues.push({ location: ctx.location, field, problem });
  return INVALID;
}

function base<T>(
  json: JsonSchema,
  common: Common,
  parse: (value: unknown, field: string, ctx: ParseContext) => Parsed<T>,
): Schema<T> {
  return {
    optional: false,
    description: common.description,
    json: () => ({
      ...json,
      ...(common.description ? { description: common.description } : {}),
      ...(common.example !== undefined ? { example: common.example } : {}),
    }),
    parse,
  };
}

export function string(
  opts: Common & { minLength?: number; maxLength?: number; pattern?: RegExp; patternHint?: string } = {},
): Schema<string> {
  const json: JsonSchema = { type: 'string' };
  if (opts.minLength !== undefined) json.minLength = opts.minLength;
  if (opts.maxLength !== undefined) json.maxLength = opts.maxLength;
  if (opts.pattern) json.pattern = opts.pattern.source;
  return base(json, opts, (value, field, ctx) => {
    if (typeof value !== 'string') return fail(ctx, field, `must be a string, got ${describe(value)}`);
    if (opts.minLength !== undefined && value.length < opts.minLength)
      return fail(
        ctx,
        field,
        opts.minLength === 1 ? 'must not be empty' : `must be at least ${opts.minLength} characters long`,
      );
    if (opts.maxLength !== undefined && value.length > opts.maxLength)
      return fail(ctx, field, `must be at most ${opts.maxLength} characters long, got ${value.length}`);
    if (opts.pattern && !opts.pattern.test(value))
      return fail(
        ctx,
        field,
        `${opts.patternHint ?? `must match ${opts.pattern.source}`}, got ${describe(value)}`,
      );
    return value;
  });
}

export function oneOf<const V extends string>(values: readonly V[], common: Common = {}): Schema<V> {
  return base({ type: 'string', enum: [...values] }, common, (value, field, ctx) => {
    if (typeof value !== 'string' || !(values as readonly string[]).includes(value))
      return fail(ctx, field, `must be one of ${values.join(', ')}, got ${describe(value)}`);
    return value as V;
  });
}

function range(min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return min === 0 ? ' >= 0' : ` >= ${min}`;
  if (max !== undefined) return ` <= ${max}`;
  return '';
}

export function integer(opts: Common & { min?: number; max?: number } = {}): Schema<number> {
  const json: JsonSchema = { type: 'integer', format: 'int64' };
  if (opts.min !== undefined) json.minimum = opts.min;
  if (opts.max !== undefined) json.maximum = opts.max;
  const expected = `must be an integer${range(opts.min, opts.max)}`;
  return base(json, opts, (value, field, ctx) => {
    let n: unknown = value;
    if (ctx.fromText && typeof value === 'string') n = /^-?\d+$/.test(value) ? Number(value) : NaN;
    if (typeof n !== 'number' || !Number.isSafeInteger(n))
      return fail(ctx, field, `${expected}, got ${describe(value)}`);
    if ((opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max))
      return fail(ctx, field, `${expected}, got ${n}`);
    return n;
  });
}

export function number(opts: Common & { min?: number; exclusiveMin?: boolean } = {}): Schema<number> {
  const json: JsonSchema = { type: 'number' };
  if (opts.min !== undefined) {
    json.minimum = opts.min;
    if (opts.exclusiveMin) json.exclusiveMinimum = true;
  }
  const expected = `must be a number${opts.min === undefined ? '' : ` ${opts.exclusiveMin ? '>' : '>='} ${opts.min}`}`;
  return base(json, opts, (value, field, ctx) => {
    let n: unknown = value;
    if (ctx.fromText && typeof value === 'string') n = value.trim() === '' ? NaN : Number(value);
    if (typeof n !== 'number' || !Number.isFinite(n))
      return fail(ctx, field, `${expected}, got ${describe(value)}`);
    if (opts.min !== undefined && (opts.exclusiveMin ? n <= opts.min : n < opts.min))
      return fail(ctx, field, `${expected}, got ${n}`);
    return n;
  });
}

export function boolean(common: Common = {}): Schema<boolean> {
  return base({ type: 'boolean' }, common, (value, field, ctx) => {
    if (typeof value === 'boolean') return value;
    if (ctx.fromText && (value === 'true' || value === 'false')) return value === 'true';
    return fail(ctx, field, `must be true or false, got ${describe(value)}`);
  });
}

/** A point in time: milliseconds since the epoch, or an ISO-8601 date-time in text. */
export function timestamp(common: Common = {}): Schema<number> {
  return base(
    {
      oneOf: [
        { type: 'integer', format: 'int64', minimum: 0 },
        { type: 'string', format: 'date-time' },
      ],
    },
    common,
    (value, field, ctx) => {
      if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
      if (typeof value === 'string') {
        if (/^\d+$/.test(value)) return Number(value);
        const ms = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : NaN;
        if (!Number.isNaN(ms)) return ms;
      }
      return fail(
        ctx,
        field,
        `must be milliseconds since the epoch or an ISO-8601 date-time (2024-05-01T12:00:00Z), got ${describe(value)}`,
      );
    },
  );
}

export function array<T>(
  items: Schema<T>,
  opts: Common & { minItems?: number; maxItems?: number } = {},
): Schema<T[]> {
  return {
    ...base<T[]>({}, opts, (value, field, ctx) => {
      if (!Array.isArray(value)) return fail(ctx, field, `must be an array, got ${describe(value)}`);
      if (opts.minItems !== undefined && value.length < opts.minItems)
        return fail(ctx, field, `must have at least ${opts.minItems} item${opts.minItems === 1 ? '' : 's'}`);
      if (opts.maxItems !== undefined && value.length > opts.maxItems)
        return fail(ctx, field, `must have at most ${opts.maxItems} items, got ${value.length}`);
      const out: T[] = [];
      let ok = true;
      value.forEach((v, i) => {
        const p = items.parse(v, `${field}[${i}]`, ctx);
        if (p === INVALID) ok = false;
        else out.push(p);
      });
      return ok ? out : INVALID;
    }),
    json: () => ({
      type: 'array',
      items: items.json(),
      ...(opts.minItems !== undefined ? { minItems: opts.minItems } : {}),
      ...(opts.maxItems !== undefined ? { maxItems: opts.maxItems } : {}),
      ...(opts.description ? { description: opts.description } : {}),
      ...(opts.example !== undefined ? { example: opts.example } : {}),
    }),
  };
}

/** A map of names to values (topic configs, say). */
export function record<T>(
  values: Schema<T>,
  opts: Common & { keyPattern?: RegExp; keyHint?: string } = {},
): Schema<Record<string, T>> {
  return {
    ...base<Record<string, T>>({}, opts, (value, field, ctx) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value))
        return fail(ctx, field, `must be an object, got ${describe(value)}`);
      const out: Record<string, T> = {};
      let ok = true;
      for (const [k, v] of Object.entries(value)) {
        const at = field === '' ? k : `${field}.${k}`;
        if (opts.keyPattern && !opts.keyPattern.test(k)) {
          ok = false;
          fail(ctx, at, opts.keyHint ?? `is not a valid name (must match ${opts.keyPattern.source})`);
          continue;
        }
        const p = values.parse(v, at, ctx);
        if (p === INVALID) ok = false;
        else out[k] = p;
      }
      return ok ? out : INVALID;
    }),
    json: () => ({
      type: 'object',
      additionalProperties: values.json(),
      ...(opts.description ? { description: opts.description } : {}),
      ...(opts.example !== undefined ? { example: opts.example } : {}),
    }),
  };
}

export type Shape = Readonly<Record<string, Schema<unknown>>>;
export type ObjectOf<S extends Shape> = { [K in keyof S]: Infer<S[K]> };

export interface ObjectSchema<S extends Shape> extends Schema<ObjectOf<S>> {
  readonly shape: S;
}

/** An object with known fields; an unknown field is an error (it is usually a typo). */
export function object<S extends Shape>(shape: S, common: Common = {}): ObjectSchema<S> {
  const known = Object.keys(shape);
  const schema = base<ObjectOf<S>>({}, common, (value, field, ctx) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      return fail(ctx, field, `must be an object, got ${describe(value)}`);
    const input = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    let ok = true;
    for (const k of Object.keys(input)) {
      if (!known.includes(k)) {
        ok = false;
        fail(
          ctx,
          field === '' ? k : `${field}.${k}`,
          `is not a known field${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`,
        );
      }
    }
    for (const k of known) {
      const at = field === '' ? k : `${field}.${k}`;
      const v = input[k];
      if (v === undefined) {
        if (!shape[k].optional) {
          ok = false;
          fail(ctx, at, 'is required');
        } else out[k] = shape[k].parse(undefined, at, ctx);
        continue;
      }
      const p = shape[k].parse(v, at, ctx);
      if (p === INVALID) ok = false;
      else out[k] = p;
    }
    return ok ? (out as ObjectOf<S>) : INVALID;
  });
  const required = known.filter((k) => !shape[k].optional);
  return {
    ...schema,
    shape,
    json: () => ({
      type: 'object',
      properties: Object.fromEntries(known.map((k) => [k, shape[k].json()])),
      // OpenAPI 3.0 forbids an empty list: without required fields there is none.
      ...(required.length > 0 ? { required } : {}),
      additionalProperties: false,
      ...(common.description ? { description: common.description } : {}),
    }),
  };
}

/** The field may be left out: it is then `fallback` (undefined without one). */
export function optional<T>(schema: Schema<T>): Schema<T | undefined>;
export function optional<T>(schema: Schema<T>, fallback: T): Schema<T>;
export function optional<T>(schema: Schema<T>, fallback?: T): Schema<T | undefined> {
  return {
    ...schema,
    optional: true,
    json: () => ({ ...schema.json(), ...(fallback !== undefined ? { default: fallback } : {}) }),
    parse: (value, field, ctx) => (value === undefined ? fallback : schema.parse(value, field, ctx)),
  };
}

export function nullable<T>(schema: Schema<T>): Schema<T | null> {
  return {
    ...schema,
    json: () => ({ ...schema.json(), nullable: true }),
    parse: (value, field, ctx) => (value === null ? null : schema.parse(value, field, ctx)),
  };
}

/** A response-only shape with a free-form JSON Schema (never used to parse). */
export function documented<T>(json: JsonSchema): Schema<T> {
  return {
    optional: false,
    json: () => json,
    parse: () => {
      throw new Error('documented schemas describe responses only');
    },
  };
}

/** Parses one part of a request; the issues it found are added to `issues`. */
export function parseWith<T>(
  schema: Schema<T>,
  value: unknown,
  location: 'path' | 'query' | 'body',
  issues: Issue[],
): T | undefined {
  const ctx: ParseContext = { location, fromText: location !== 'body', issues };
  const p = schema.parse(value, '', ctx);
  return p === INVALID ? undefined : p;
}

/** "body.partitions must be ...", "query parameter limit must be ...", "the body must be ...". */
export function issueText(i: Issue): string {
  if (i.field === '') return `the ${i.location === 'body' ? 'request body' : i.location} ${i.problem}`;
  if (i.location === 'body') return `body.${i.field} ${i.problem}`;
  if (i.location === 'query') return `query parameter ${i.field} ${i.problem}`;
  return `path parameter ${i.field} ${i.problem}`;
}

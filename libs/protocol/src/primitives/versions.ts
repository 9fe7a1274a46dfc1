/** A Kafka version range as written in the message schemas: "0+", "3-7", "5", or "none". */
export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

const NONE: VersionRange = { min: 1, max: 0 };

const parsed = new Map<string, VersionRange>();

/**
 * Parses a range once: the router and the codecs ask for the same few strings on every
 * request, so the answers are kept (the hot path never runs these regular expressions).
 */
export function parseVersions(spec: string | undefined, fallback = '0+'): VersionRange {
  const s = spec ?? fallback;
  let range = parsed.get(s);
  if (range === undefined) {
    range = parseRange(s);
    parsed.set(s, range);
  }
  return range;
}

function parseRange(s: string): VersionRange {
  if (s === 'none') return NONE;
  const plus = /^(\d+)\+$/.exec(s);
  if (plus) return { min: Number(plus[1]), max: Number.MAX_SAFE_INTEGER };
  const range = /^(\d+)-(\d+)$/.exec(s);
  if (range) return { min: Number(range[1]), max: Number(range[2]) };
  if (/^\d+$/.test(s)) return { min: Number(s), max: Number(s) };
  throw new Error(`invalid version range "${s}"`);
}

export function inRange(range: VersionRange, version: number): boolean {
  return version >= range.min && version <= range.max;
}

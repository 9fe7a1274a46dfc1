import type { RecordHeader } from '@tributary/protocol';

/**
 * Per-record provenance for records the replicator re-produces (translate mode): one header
 * per hop, oldest first, "<source alias>:<topic>:<partition>:<offset>" (as Confluent
 * Replicator stamps its provenance). It tells a restarted unit exactly which source records
 * are already in the target, and keeps a record from ever re-entering a cluster it passed.
 */
export const ORIGIN_HEADER = 'tributary.origin';

export interface Origin {
  readonly cluster: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export function originHeader(o: Origin): RecordHeader {
  return { key: ORIGIN_HEADER, value: Buffer.from(`${o.cluster}:${o.topic}:${o.partition}:${o.offset}`) };
}

export function parseOrigin(value: Buffer | null): Origin | null {
  if (value === null) return null;
  const s = value.toString();
  const m = /^([^:]+):(.+):(\d+):(\d+)$/.exec(s);
  if (m === null) return null;
  return { cluster: m[1], topic: m[2], partition: Number(m[3]), offset: Number(m[4]) };
}

/** The clusters a record passed through, from its origin headers. */
export function passedThrough(headers: readonly RecordHeader[]): string[] {
  const out: string[] = [];
  for (const h of headers) {
    if (h.key !== ORIGIN_HEADER) continue;
    const o = parseOrigin(h.value);
    if (o !== null) out.push(o.cluster);
  }
  return out;
}

/** This hop's origin of a record: its last origin header. */
export function lastOrigin(headers: readonly RecordHeader[]): Origin | null {
  for (let i = headers.length - 1; i >= 0; i--) {
    if (headers[i].key === ORIGIN_HEADER) return parseOrigin(headers[i].value);
  }
  return null;
}

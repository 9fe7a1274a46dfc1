import path from 'node:path';
import { readFileIfExists, writeFileAtomicSync } from '@tributary/storage';
import { entityPath, isQuotaKey, type QuotaAlteration, type QuotaValues } from './quota-entity';

/** Every entity's quotas, by entity path (users/<user>/clients/<client-id>, ...). */
export type QuotaState = ReadonlyMap<string, QuotaValues>;

/**
 * Where client quotas live: a lone broker's data dir, or a replicated cluster's Redis so
 * every broker enforces the same ones. An alteration is applied whole or not at all.
 */
export interface QuotaStore {
  read(): Promise<QuotaState>;
  alter(alterations: readonly QuotaAlteration[]): Promise<void>;
  /** Calls back whenever the quotas may have changed elsewhere (another broker wrote them). */
  watch(onChange: () => void): void;
}

/** Applies alterations to a state: keys set and removed, entities left without keys dropped. */
export function applyAlterations(
  state: QuotaState,
  alterations: readonly QuotaAlteration[],
): Map<string, QuotaValues> {
  const next = new Map(state);
  for (const a of alterations) {
    const key = entityPath(a.entity);
    const values: Record<string, number> = { ...(next.get(key) ?? {}), ...a.set };
    for (const k of a.remove) delete values[k];
    if (Object.keys(values).length === 0) next.delete(key);
    else next.set(key, values);
  }
  return next;
}

/** Stored values: numbers under known keys; anything else is a damaged file or a newer version. */
export function parseStoredValues(where: string, raw: unknown): QuotaValues {
  if (raw === null || typeof raw !== 'object') throw new Error(`${where}: not an object of quota keys`);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const n = typeof v === 'string' ? Number(v) : v;
    if (!isQuotaKey(k) || typeof n !== 'number' || !Number.isFinite(n))
      throw new Error(`${where}: ${k} = ${String(v)} is not a client quota`);
    out[k] = n;
  }
  return out;
}

/** A lone broker's quotas: `client-quotas.json` in the data dir, replaced atomically. */
export class FileQuotaStore implements QuotaStore {
  private readonly file: string;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'client-quotas.json');
  }

  async read(): Promise<QuotaState> {
    return this.readSync();
  }

  private readSync(): Map<string, QuotaValues> {
    const text = readFileIfExists(this.file);
    if (text === null) return new Map();
    let doc: { quotas?: Record<string, unknown> };
    try {
      doc = JSON.parse(text) as { quotas?: Record<string, unknown> };
    } catch (err) {
      throw new Error(`cannot read ${this.file}: ${(err as Error).message}`);
    }
    return new Map(
      Object.entries(doc.quotas ?? {}).map(([k, v]) => [k, parseStoredValues(`${this.file} ${k}`, v)]),
    );
  }

  async alter(alterations: readonly QuotaAlteration[]): Promise<void> {
    const next = applyAlterations(this.readSync(), alterations);
    const quotas: Record<string, QuotaValues> = {};
    for (const k of [...next.keys()].sort()) quotas[k] = next.get(k)!;
    writeFileAtomicSync(this.file, `${JSON.stringify({ version: 1, quotas }, null, 2)}\n`);
  }

  watch(): void {
    // Nobody else writes a lone broker's file.
  }
}

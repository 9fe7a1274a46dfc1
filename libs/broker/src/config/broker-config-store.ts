import path from 'node:path';
import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import { readFileIfExists, writeFileAtomicSync } from '@tributary/storage';

/** The entity of the cluster-wide default: an empty resource name in the protocol. */
export const DEFAULT_ENTITY = '';

/** One entity's dynamic configs as stored, with the version a change must name. */
export interface StoredBrokerConfigs {
  readonly configs: Readonly<Record<string, string>>;
  /** 0 while nothing was ever stored. */
  readonly version: number;
}

/**
 * Where dynamic broker configs live (Kafka's /config/brokers/<id> and /config/brokers/<default>):
 * a lone broker's data dir, or the cluster's Redis so that every broker sees the default and
 * its own. An entity is DEFAULT_ENTITY or a broker id.
 */
export interface BrokerConfigStore {
  read(entity: string): Promise<StoredBrokerConfigs>;
  /**
   * Replaces an entity's configs if its version is still `expectedVersion`; otherwise
   * INVALID_UPDATE_VERSION (the caller reads again and retries).
   */
  write(entity: string, expectedVersion: number, configs: Readonly<Record<string, string>>): Promise<void>;
  /** Calls back whenever configs may have changed elsewhere (another broker wrote them). */
  watch(onChange: () => void): void;
}

/** The entity's name in files and Redis, as Kafka's ZooKeeper paths name it. */
export function entityKey(entity: string): string {
  return entity === DEFAULT_ENTITY ? '<default>' : entity;
}

interface BrokerConfigsFile {
  version: 1;
  entities: Record<string, { version: number; configs: Record<string, string> }>;
}

/**
 * A lone broker's store: `broker-configs.json` in the data dir, replaced atomically and
 * readable by the broker's user alone (a listener's ssl.key.password may be among the values).
 */
export class FileBrokerConfigStore implements BrokerConfigStore {
  private readonly file: string;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'broker-configs.json');
  }

  private load(): BrokerConfigsFile {
    const text = readFileIfExists(this.file);
    if (text === null) return { version: 1, entities: {} };
    try {
      const doc = JSON.parse(text) as BrokerConfigsFile;
      if (doc.entities === null || typeof doc.entities !== 'object') throw new Error('no entities');
      return doc;
    } catch (err) {
      throw new KafkaProtocolError(ErrorCode.KAFKA_STORAGE_ERROR, `${this.file} is unreadable`, {
        cause: err,
      });
    }
  }

  async read(entity: string): Promise<StoredBrokerConfigs> {
    const stored = this.load().entities[entityKey(entity)];
    return stored === undefined ? { configs: {}, version: 0 } : stored;
  }

  async write(
    entity: string,
    expectedVersion: number,
    configs: Readonly<Record<string, string>>,
  ): Promise<void> {
    const doc = this.load();
    const key = entityKey(entity);
    const version = doc.entities[key]?.version ?? 0;
    if (version !== expectedVersion)
      throw new KafkaProtocolError(
        ErrorCode.INVALID_UPDATE_VERSION,
        `the configs of ${key} changed meanwhile`,
      );
    doc.entities[key] = { version: version + 1, configs: { ...configs } };
    writeFileAtomicSync(this.file, `${JSON.stringify(doc, null, 2)}\n`, 0o600);
  }

  watch(): void {
    // Nobody else writes a lone broker's files.
  }
}

import fs from 'node:fs';
import path from 'node:path';
import {
  aclOperationCode,
  aclOperationName,
  aclPermissionCode,
  aclPermissionName,
  patternTypeCode,
  patternTypeName,
  resourceTypeCode,
  resourceTypeName,
  type AclBinding,
  type ScramCredential,
  type ScramMechanism,
} from '@tributary/protocol';

export interface StoredCredential {
  readonly user: string;
  readonly mechanism: ScramMechanism;
  readonly credential: ScramCredential;
}

export interface SecurityState {
  readonly acls: readonly AclBinding[];
  readonly credentials: readonly StoredCredential[];
}

/**
 * Where ACLs and SCRAM credentials live: a lone broker's data dir, or a replicated cluster's
 * Redis so that every broker agrees. Writes are whole or not at all.
 */
export interface SecurityStore {
  read(): Promise<SecurityState>;
  alterAcls(add: readonly AclBinding[], remove: readonly AclBinding[]): Promise<void>;
  alterCredentials(
    upserts: readonly StoredCredential[],
    deletions: readonly { user: string; mechanism: ScramMechanism }[],
  ): Promise<void>;
  /** Calls back whenever the state may have changed elsewhere (another broker wrote it). */
  watch(onChange: () => void): void;
}

/** An ACL as stored: Kafka's names, one canonical JSON text per binding (so it can be a set member). */
export function encodeAcl(acl: AclBinding): string {
  return JSON.stringify({
    resource_type: resourceTypeName(acl.resourceType),
    pattern_type: patternTypeName(acl.patternType),
    name: acl.resourceName,
    principal: acl.principal,
    host: acl.host,
    operation: aclOperationName(acl.operation),
    permission: aclPermissionName(acl.permissionType),
  });
}

export function decodeAcl(text: string): AclBinding {
  const j = JSON.parse(text) as Record<string, string>;
  const code = (value: number | undefined, what: string): number => {
    if (value === undefined) throw new Error(`stored ACL has an unknown ${what}`);
    return value;
  };
  return {
    resourceType: code(resourceTypeCode(j.resource_type), 'resource type'),
    patternType: code(patternTypeCode(j.pattern_type), 'pattern type'),
    resourceName: j.name,
    principal: j.principal,
    host: j.host,
    operation: code(aclOperationCode(j.operation), 'operation'),
    permissionType: code(aclPermissionCode(j.permission), 'permission'),
  };
}

export function encodeCredential(c: ScramCredential): string {
  return JSON.stringify({
    salt: c.salt.toString('base64'),
    stored_key: c.storedKey.toString('base64'),
    server_key: c.serverKey.toString('base64'),
    iterations: c.iterations,
  });
}

export function decodeCredential(text: string): ScramCredential {
  const j = JSON.parse(text) as { salt: string; stored_key: string; server_key: string; iterations: number };
  return {
    salt: Buffer.from(j.salt, 'base64'),
    storedKey: Buffer.from(j.stored_key, 'base64'),
    serverKey: Buffer.from(j.server_key, 'base64'),
    iterations: j.iterations,
  };
}

export const credentialKey = (user: string, mechanism: string): string => `${mechanism}:${user}`;

/**
 * A lone broker's store: `acls.json` and `scram-credentials.json` in the data dir (only
 * salts and derived keys, readable by the broker's user alone), each replaced atomically.
 */
export class FileSecurityStore implements SecurityStore {
  private readonly aclFile: string;
  private readonly credentialFile: string;

  constructor(dataDir: string) {
    this.aclFile = path.join(dataDir, 'acls.json');
    this.credentialFile = path.join(dataDir, 'scram-credentials.json');
  }

  async read(): Promise<SecurityState> {
    return { acls: [...this.readAcls().values()].map(decodeAcl), credentials: this.readCredentials() };
  }

  private readAcls(): Set<string> {
    const doc = readJson(this.aclFile) as { acls?: unknown[] } | null;
    return new Set((doc?.acls ?? []).map((a) => encodeAcl(decodeAcl(JSON.stringify(a)))));
  }

  private readCredentials(): StoredCredential[] {
    const doc = readJson(this.credentialFile) as { credentials?: Record<string, unknown> } | null;
    return Object.entries(doc?.credentials ?? {}).map(([k, v]) => {
      const colon = k.indexOf(':');
      return {
        mechanism: k.slice(0, colon) as ScramMechanism,
        user: k.slice(colon + 1),
        credential: decodeCredential(JSON.stringify(v)),
      };
    });
  }

  async alterAcls(add: readonly AclBinding[], remove: readonly AclBinding[]): Promise<void> {
    const acls = this.readAcls();
    for (const a of remove) acls.delete(encodeAcl(a));
    for (const a of add) acls.add(encodeAcl(a));
    writeJson(
      this.aclFile,
      { version: 1, acls: [...acls].sort().map((t) => JSON.parse(t) as unknown) },
      0o644,
    );
  }

  async alterCredentials(
    upserts: readonly StoredCredential[],
    deletions: readonly { user: string; mechanism: ScramMechanism }[],
  ): Promise<void> {
    const map = new Map(
      this.readCredentials().map((c) => [credentialKey(c.user, c.mechanism), c.credential]),
    );
    for (const d of deletions) map.delete(credentialKey(d.user, d.mechanism));
    for (const u of upserts) map.set(credentialKey(u.user, u.mechanism), u.credential);
    const credentials: Record<string, unknown> = {};
    for (const k of [...map.keys()].sort()) credentials[k] = JSON.parse(encodeCredential(map.get(k)!));
    writeJson(this.credentialFile, { version: 1, credentials }, 0o600);
  }

  watch(): void {
    // Nobody else writes a lone broker's files.
  }
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Write, fsync, rename: a crash leaves the old file or the new one. */
function writeJson(file: string, doc: unknown, mode: number): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', mode);
  try {
    fs.writeFileSync(fd, `${JSON.stringify(doc, null, 2)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, file);
}

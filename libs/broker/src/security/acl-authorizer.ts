import {
  AclOperation,
  AclPatternType,
  AclPermissionType,
  AclResourceType,
  WILDCARD,
  WILDCARD_PRINCIPAL,
  type AclBinding,
} from '@tributary/protocol';
import type { Session } from './session';

/** Operations an ALLOW on another implies (Kafka: DESCRIBE by READ, WRITE, DELETE, ALTER; DESCRIBE_CONFIGS by ALTER_CONFIGS). */
const IMPLIED_BY: ReadonlyMap<number, readonly number[]> = new Map([
  [
    AclOperation.DESCRIBE,
    [AclOperation.DESCRIBE, AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER],
  ],
  [AclOperation.DESCRIBE_CONFIGS, [AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS]],
]);

interface TypeIndex {
  readonly literal: Map<string, AclBinding[]>;
  readonly prefixed: AclBinding[];
}

export interface AuthorizerOptions {
  readonly enabled: boolean;
  readonly superUsers: ReadonlySet<string>;
  readonly allowEveryoneIfNoAclFound: boolean;
}

/**
 * Kafka's AclAuthorizer. A request is allowed for a super user; otherwise the ACLs on the
 * resource are those with its literal name, the literal wildcard "*", and every prefix of
 * its name; with none at all the answer is allow.everyone.if.no.acl.found; else a matching
 * DENY wins over any ALLOW, and some ALLOW must match (principal or User:*, host or *, the
 * operation or ALL, or one that implies it).
 *
 * Hot path: each connection's Session caches its decisions by operation, resource type and
 * name; every change of the ACLs bumps `version`, which empties those caches on next use.
 */
export class AclAuthorizer {
  private readonly byType = new Map<number, TypeIndex>();
  private bindings: AclBinding[] = [];
  private _version = 0;

  constructor(readonly options: AuthorizerOptions) {}

  get enabled(): boolean {
    return this.options.enabled;
  }

  get version(): number {
    return this._version;
  }

  acls(): readonly AclBinding[] {
    return this.bindings;
  }

  /** Replaces every ACL (loaded, or read again after a change). */
  setAcls(bindings: readonly AclBinding[]): void {
    this.bindings = [...bindings];
    this.byType.clear();
    for (const b of bindings) {
      let index = this.byType.get(b.resourceType);
      if (index === undefined)
        this.byType.set(b.resourceType, (index = { literal: new Map(), prefixed: [] }));
      if (b.patternType === AclPatternType.PREFIXED) index.prefixed.push(b);
      else {
        let list = index.literal.get(b.resourceName);
        if (list === undefined) index.literal.set(b.resourceName, (list = []));
        list.push(b);
      }
    }
    this._version++;
  }

  isSuperUser(principal: string): boolean {
    return this.options.superUsers.has(principal);
  }

  /** Whether the session may do `operation` on the resource; cached per session. */
  authorize(session: Session, operation: number, resourceType: number, name: string): boolean {
    if (!this.options.enabled || this.options.superUsers.has(session.principal)) return true;
    const cache = session.decisionsFor(this._version, operation * 16 + resourceType);
    const cached = cache.get(name);
    if (cached !== undefined) return cached;
    const decision = this.decide(session.principal, session.host, operation, resourceType, name);
    session.remember(cache, name, decision);
    return decision;
  }

  /**
   * Kafka's authorized-operations bit field (bit n: operation code n) of the operations the
   * session may do on the resource, among those the resource type supports; every supported
   * one without an authorizer, as Kafka answers.
   */
  authorizedOperations(session: Session, resourceType: number, name: string): number {
    let bits = 0;
    for (const operation of SUPPORTED_OPERATIONS.get(resourceType) ?? [])
      if (this.authorize(session, operation, resourceType, name)) bits |= 1 << operation;
    return bits;
  }

  private matching(resourceType: number, name: string): AclBinding[] {
    const index = this.byType.get(resourceType);
    if (index === undefined) return [];
    const out = [
      ...(index.literal.get(name) ?? []),
      ...(name === WILDCARD ? [] : (index.literal.get(WILDCARD) ?? [])),
    ];
    for (const b of index.prefixed) if (name.startsWith(b.resourceName)) out.push(b);
    return out;
  }

  decide(principal: string, host: string, operation: number, resourceType: number, name: string): boolean {
    const acls = this.matching(resourceType, name);
    if (acls.length === 0) return this.options.allowEveryoneIfNoAclFound;
    const applies = (b: AclBinding) =>
      (b.principal === principal || b.principal === WILDCARD_PRINCIPAL) &&
      (b.host === host || b.host === WILDCARD);
    for (const b of acls) {
      if (
        b.permissionType === AclPermissionType.DENY &&
        applies(b) &&
        (b.operation === operation || b.operation === AclOperation.ALL)
      )
        return false;
    }
    const allowing = IMPLIED_BY.get(operation) ?? [operation];
    return acls.some(
      (b) =>
        b.permissionType === AclPermissionType.ALLOW &&
        applies(b) &&
        (b.operation === AclOperation.ALL || allowing.includes(b.operation)),
    );
  }

  /**
   * Kafka's authorizeByResourceType (KIP-679): whether the session may do `operation` on at
   * least one resource of the type, e.g. WRITE on some topic for an idempotent producer's
   * InitProducerId. An ALLOW counts unless a DENY for the same principal covers its pattern.
   */
  authorizeByResourceType(session: Session, operation: number, resourceType: number): boolean {
    if (!this.options.enabled || this.options.superUsers.has(session.principal)) return true;
    const index = this.byType.get(resourceType);
    if (index === undefined) return this.options.allowEveryoneIfNoAclFound;
    const all = [...[...index.literal.values()].flat(), ...index.prefixed];
    const applies = (b: AclBinding) =>
      (b.principal === session.principal || b.principal === WILDCARD_PRINCIPAL) &&
      (b.host === session.host || b.host === WILDCARD);
    const denies = all.filter(
      (b) =>
        b.permissionType === AclPermissionType.DENY &&
        applies(b) &&
        (b.operation === operation || b.operation === AclOperation.ALL),
    );
    if (denies.some((d) => d.patternType === AclPatternType.LITERAL && d.resourceName === WILDCARD))
      return false;
    // As Kafka's AclAuthorizer: allow.everyone.if.no.acl.found wins unless all is denied.
    if (this.options.allowEveryoneIfNoAclFound) return true;
    const covered = (a: AclBinding) =>
      denies.some((d) =>
        d.patternType === AclPatternType.PREFIXED
          ? a.resourceName.startsWith(d.resourceName)
          : a.patternType === AclPatternType.LITERAL && d.resourceName === a.resourceName,
      );
    const allowing = IMPLIED_BY.get(operation) ?? [operation];
    return all.some(
      (b) =>
        b.permissionType === AclPermissionType.ALLOW &&
        applies(b) &&
        (b.operation === AclOperation.ALL || allowing.includes(b.operation)) &&
        !covered(b),
    );
  }
}

/** The operations each resource type supports (Kafka's AclEntry.supportedOperations). */
const SUPPORTED_OPERATIONS: ReadonlyMap<number, readonly number[]> = new Map([
  [
    AclResourceType.TOPIC,
    [
      AclOperation.READ,
      AclOperation.WRITE,
      AclOperation.CREATE,
      AclOperation.DESCRIBE,
      AclOperation.DELETE,
      AclOperation.ALTER,
      AclOperation.DESCRIBE_CONFIGS,
      AclOperation.ALTER_CONFIGS,
    ],
  ],
  [AclResourceType.GROUP, [AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE]],
  [
    AclResourceType.CLUSTER,
    [
      AclOperation.CREATE,
      AclOperation.CLUSTER_ACTION,
      AclOperation.DESCRIBE_CONFIGS,
      AclOperation.ALTER_CONFIGS,
      AclOperation.IDEMPOTENT_WRITE,
      AclOperation.ALTER,
      AclOperation.DESCRIBE,
    ],
  ],
  [AclResourceType.TRANSACTIONAL_ID, [AclOperation.DESCRIBE, AclOperation.WRITE]],
  [AclResourceType.DELEGATION_TOKEN, [AclOperation.DESCRIBE]],
  [AclResourceType.USER, [AclOperation.CREATE_TOKENS, AclOperation.DESCRIBE_TOKENS]],
]);

/** The resource types ACLs may name (CreateAcls refuses ANY and UNKNOWN). */
export const BINDABLE_RESOURCE_TYPES: ReadonlySet<number> = new Set([
  AclResourceType.TOPIC,
  AclResourceType.GROUP,
  AclResourceType.CLUSTER,
  AclResourceType.TRANSACTIONAL_ID,
  AclResourceType.DELEGATION_TOKEN,
  AclResourceType.USER,
]);

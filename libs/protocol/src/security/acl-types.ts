/**
 * Kafka's ACL model as wire codes (org.apache.kafka.common.resource and .acl): what a binding
 * names, how its resource name is matched, which operation it covers and whether it allows
 * or denies. The names are Kafka's, as kafka-acls prints them.
 */
export const AclResourceType = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7,
} as const;

export const AclPatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;

export const AclOperation = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
} as const;

export const AclPermissionType = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;

/** The one name of the cluster resource. */
export const CLUSTER_RESOURCE_NAME = 'kafka-cluster';
/** A literal resource name or principal that matches every one. */
export const WILDCARD = '*';
export const WILDCARD_PRINCIPAL = 'User:*';

type Codes = Readonly<Record<string, number>>;

function nameOf(codes: Codes, code: number): string {
  for (const [name, c] of Object.entries(codes)) if (c === code) return name;
  return `UNKNOWN(${code})`;
}

function codeOf(codes: Codes, name: string): number | undefined {
  const key = name.trim().toUpperCase().replace(/[-\s]/g, '_');
  return Object.prototype.hasOwnProperty.call(codes, key) ? codes[key] : undefined;
}

export const resourceTypeName = (code: number): string => nameOf(AclResourceType, code);
export const patternTypeName = (code: number): string => nameOf(AclPatternType, code);
export const aclOperationName = (code: number): string => nameOf(AclOperation, code);
export const aclPermissionName = (code: number): string => nameOf(AclPermissionType, code);

/** Parses Kafka's names (any case, '-' or '_'); undefined for an unknown name. */
export const resourceTypeCode = (name: string): number | undefined => codeOf(AclResourceType, name);
export const patternTypeCode = (name: string): number | undefined => codeOf(AclPatternType, name);
export const aclOperationCode = (name: string): number | undefined => codeOf(AclOperation, name);
export const aclPermissionCode = (name: string): number | undefined => codeOf(AclPermissionType, name);

/** One ACL as Kafka's AclBinding: a resource pattern and an access control entry. */
export interface AclBinding {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly patternType: number;
  /** "User:alice", or "User:*" for everyone. */
  readonly principal: string;
  /** A client address, or "*" for any. */
  readonly host: string;
  readonly operation: number;
  readonly permissionType: number;
}

/**
 * Kafka's AclBindingFilter (DescribeAcls, DeleteAcls): null strings and ANY codes match
 * everything; patternType MATCH finds the bindings that would apply to resourceName.
 */
export interface AclBindingFilter {
  readonly resourceType: number;
  readonly resourceName: string | null;
  readonly patternType: number;
  readonly principal: string | null;
  readonly host: string | null;
  readonly operation: number;
  readonly permissionType: number;
}

/** Kafka's ResourcePatternFilter.matches and AccessControlEntryFilter.matches together. */
export function aclFilterMatches(filter: AclBindingFilter, acl: AclBinding): boolean {
  if (filter.resourceType !== AclResourceType.ANY && filter.resourceType !== acl.resourceType) return false;
  const pt = filter.patternType;
  if (pt !== AclPatternType.ANY && pt !== AclPatternType.MATCH && pt !== acl.patternType) return false;
  if (filter.resourceName !== null) {
    if (pt === AclPatternType.ANY || pt === acl.patternType) {
      if (filter.resourceName !== acl.resourceName) return false;
    } else if (acl.patternType === AclPatternType.LITERAL) {
      if (filter.resourceName !== acl.resourceName && acl.resourceName !== WILDCARD) return false;
    } else if (!filter.resourceName.startsWith(acl.resourceName)) return false;
  }
  if (filter.principal !== null && filter.principal !== acl.principal) return false;
  if (filter.host !== null && filter.host !== acl.host) return false;
  if (filter.operation !== AclOperation.ANY && filter.operation !== acl.operation) return false;
  return filter.permissionType === AclPermissionType.ANY || filter.permissionType === acl.permissionType;
}

/** "User:alice has ALLOW on READ from * for TOPIC:LITERAL:orders", for messages and listings. */
export function describeAcl(acl: AclBinding): string {
  return (
    `${acl.principal} has ${aclPermissionName(acl.permissionType)} on ${aclOperationName(acl.operation)} ` +
    `from ${acl.host} for ${resourceTypeName(acl.resourceType)}:${patternTypeName(acl.patternType)}:${acl.resourceName}`
  );
}

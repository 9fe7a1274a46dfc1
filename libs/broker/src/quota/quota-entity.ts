/** Kafka's client quota entity types (ClientQuotaEntity). */
export const QuotaEntityType = { USER: 'user', CLIENT_ID: 'client-id', IP: 'ip' } as const;

/** Kafka's client quota keys (QuotaConfigs) and their config types: byte rates are integral. */
export const QUOTA_KEYS = {
  producer_byte_rate: 'long',
  consumer_byte_rate: 'long',
  request_percentage: 'double',
  controller_mutation_rate: 'double',
} as const;
export type QuotaKey = keyof typeof QUOTA_KEYS;

export function isQuotaKey(key: string): key is QuotaKey {
  return Object.hasOwn(QUOTA_KEYS, key);
}

/**
 * A quota entity: a user, a client-id, or both. A null name is that type's default
 * (`<default>` in Kafka's tools); an absent type is not part of the entity.
 */
export interface QuotaEntity {
  readonly user?: string | null;
  readonly clientId?: string | null;
}

export type QuotaValues = Readonly<Partial<Record<QuotaKey, number>>>;

/** One entity's change: keys to set and keys to remove. */
export interface QuotaAlteration {
  readonly entity: QuotaEntity;
  readonly set: QuotaValues;
  readonly remove: readonly QuotaKey[];
}

const DEFAULT = '<default>';

/** Kafka's Sanitizer: a name as it appears in a config path (URL-encoded, so `<default>` cannot be one). */
const sanitize = (name: string): string =>
  encodeURIComponent(name).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * Where Kafka keeps an entity's quotas, under /config: users/<user>/clients/<client-id>,
 * users/<user>, clients/<client-id>, with <default> for a default. Our stores key by it too.
 */
export function entityPath(entity: QuotaEntity): string {
  const part = (name: string | null): string => (name === null ? DEFAULT : sanitize(name));
  const parts: string[] = [];
  if (entity.user !== undefined) parts.push('users', part(entity.user));
  if (entity.clientId !== undefined) parts.push('clients', part(entity.clientId));
  return parts.join('/');
}

export function parseEntityPath(path: string): QuotaEntity {
  const name = (s: string): string | null => (s === DEFAULT ? null : decodeURIComponent(s));
  const m = /^(?:users\/([^/]+))?(?:\/?clients\/([^/]+))?$/.exec(path);
  if (m === null || (m[1] === undefined && m[2] === undefined))
    throw new Error(`"${path}" is not a client quota entity path`);
  return {
    ...(m[1] === undefined ? {} : { user: name(m[1]) }),
    ...(m[2] === undefined ? {} : { clientId: name(m[2]) }),
  };
}

/** The entity as the wire carries it: user first, then client-id. */
export function entityComponents(entity: QuotaEntity): { entityType: string; entityName: string | null }[] {
  const out: { entityType: string; entityName: string | null }[] = [];
  if (entity.user !== undefined) out.push({ entityType: QuotaEntityType.USER, entityName: entity.user });
  if (entity.clientId !== undefined)
    out.push({ entityType: QuotaEntityType.CLIENT_ID, entityName: entity.clientId });
  return out;
}

/** An entity's description in Kafka's tools' words: user 'alice', client-id <default>. */
export function describeEntity(entity: QuotaEntity): string {
  return entityComponents(entity)
    .map((c) => `${c.entityType} ${c.entityName === null ? DEFAULT : `'${c.entityName}'`}`)
    .join(', ');
}

/**
 * Kafka's checks of an entity to alter (ClientQuotaControlManager.validateEntity): known
 * types once each, no empty names; user and client-id may be combined. IP entities
 * (connection_creation_rate) are Kafka's too, but Tributary does not limit connections.
 */
export function validateEntity(
  components: readonly { entityType: string; entityName: string | null }[],
): QuotaEntity | string {
  if (components.length === 0) return 'Invalid empty client quota entity';
  let user: string | null | undefined;
  let clientId: string | null | undefined;
  const seen = new Set<string>();
  for (const { entityType, entityName } of components) {
    if (seen.has(entityType))
      return `Invalid empty client quota entity, duplicate entity entry ${entityType}`;
    seen.add(entityType);
    if (entityType === QuotaEntityType.USER) user = entityName;
    else if (entityType === QuotaEntityType.CLIENT_ID) clientId = entityName;
    else if (entityType === QuotaEntityType.IP)
      return 'IP quotas (connection_creation_rate) are not supported by Tributary';
    else return `Unhandled client quota entity type: ${entityType}`;
    if (entityName !== null && entityName === '') return `Empty ${entityType} not supported`;
  }
  return {
    ...(user === undefined ? {} : { user }),
    ...(clientId === undefined ? {} : { clientId }),
  };
}

/** Kafka's check of a value to set (validateQuotaKeyValue): a known key, above 0, integral for byte rates. */
export function validateQuotaValue(key: string, value: number): string | null {
  if (!isQuotaKey(key)) return `Invalid configuration key ${key}`;
  if (!(value > 0)) return `Quota ${key} must be greater than 0`;
  if (QUOTA_KEYS[key] === 'long') {
    if (value > 2 ** 63) return `Proposed value for ${key} is too large for a LONG.`;
    if (Math.abs(value % 1) > 1e-6) return `${key} cannot be a fractional value.`;
  }
  return null;
}

/** DescribeClientQuotas' match types. */
export const MatchType = { EXACT: 0, DEFAULT: 1, SPECIFIED: 2 } as const;

export interface QuotaFilterComponent {
  readonly entityType: string;
  readonly matchType: number;
  readonly match: string | null;
}

/**
 * Kafka's DescribeClientQuotas filter (ClientQuotasImage.describe): each component names a
 * type once; EXACT needs a name, DEFAULT and SPECIFIED none. Returns a predicate over
 * entities, or the error to answer (INVALID_REQUEST, or UNSUPPORTED_VERSION for an unknown
 * type or match type, as Kafka answers).
 */
export function quotaFilter(
  components: readonly QuotaFilterComponent[],
  strict: boolean,
): ((entity: QuotaEntity) => boolean) | { unsupported: boolean; message: string } {
  const exact = new Map<string, string | null>();
  const specified = new Set<string>();
  for (const c of components) {
    if (c.entityType === '') return { unsupported: false, message: 'Invalid empty entity type.' };
    if (exact.has(c.entityType) || specified.has(c.entityType))
      return {
        unsupported: false,
        message: `Entity type ${c.entityType} cannot appear more than once in the filter.`,
      };
    if (
      c.entityType !== QuotaEntityType.USER &&
      c.entityType !== QuotaEntityType.CLIENT_ID &&
      c.entityType !== QuotaEntityType.IP
    )
      return { unsupported: true, message: `Unsupported entity type ${c.entityType}` };
    switch (c.matchType) {
      case MatchType.EXACT:
        if (c.match === null)
          return {
            unsupported: false,
            message: 'Request specified MATCH_TYPE_EXACT, but set match string to null.',
          };
        exact.set(c.entityType, c.match);
        break;
      case MatchType.DEFAULT:
        if (c.match !== null)
          return {
            unsupported: false,
            message: 'Request specified MATCH_TYPE_DEFAULT, but also specified a match string.',
          };
        exact.set(c.entityType, null);
        break;
      case MatchType.SPECIFIED:
        if (c.match !== null)
          return {
            unsupported: false,
            message: 'Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.',
          };
        specified.add(c.entityType);
        break;
      default:
        return { unsupported: true, message: `Unsupported match type ${c.matchType}` };
    }
  }
  const usesIp = exact.has(QuotaEntityType.IP) || specified.has(QuotaEntityType.IP);
  if (usesIp && exact.size + specified.size > 1)
    return {
      unsupported: false,
      message:
        'Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.',
    };
  return (entity) => {
    const names = new Map<string, string | null>();
    if (entity.user !== undefined) names.set(QuotaEntityType.USER, entity.user);
    if (entity.clientId !== undefined) names.set(QuotaEntityType.CLIENT_ID, entity.clientId);
    if (strict && names.size !== exact.size + specified.size) return false;
    for (const [type, name] of exact) if (!names.has(type) || names.get(type) !== name) return false;
    for (const type of specified) if ((names.get(type) ?? null) === null) return false;
    return true;
  };
}

import {
  AclOperation,
  AclResourceType,
  CLUSTER_RESOURCE_NAME,
  AclPatternType,
  AclPermissionType,
  AlterUserScramCredentials,
  CreateAcls,
  DeleteAcls,
  DescribeAcls,
  DescribeUserScramCredentials,
  ErrorCode,
  errorCodeOf,
  KafkaProtocolError,
  SaslAuthenticate,
  SaslHandshake,
  SCRAM_MAX_ITERATIONS,
  SCRAM_MIN_ITERATIONS,
  scramCredential,
  scramMechanismOfType,
  scramMechanismType,
  type AclBinding,
  type AclBindingFilter,
  type ScramMechanism,
} from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import { BINDABLE_RESOURCE_TYPES } from './acl-authorizer';
import { authorizeCluster } from './authorize';
import type { StoredCredential } from './security-store';
import type { ApiHandler } from '../handlers/handler';

const NO_AUTHORIZER = 'No Authorizer is configured on the broker (authorizer.class.name)';

/**
 * SaslHandshake on a connection that needs none (a PLAINTEXT or SSL listener, or after
 * authentication): Kafka answers ILLEGAL_SASL_STATE. On SASL listeners the authenticator
 * answers it before the router is reached.
 */
function saslHandshakeHandler(): ApiHandler<typeof SaslHandshake> {
  return {
    api: SaslHandshake,
    handle: () => ({ errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] }),
  };
}

function saslAuthenticateHandler(): ApiHandler<typeof SaslAuthenticate> {
  return {
    api: SaslAuthenticate,
    handle: () => ({
      errorCode: ErrorCode.ILLEGAL_SASL_STATE,
      errorMessage:
        'SaslAuthenticate request received after successful authentication or on a listener without SASL',
      authBytes: Buffer.alloc(0),
      sessionLifetimeMs: 0,
    }),
  };
}

/** Kafka's checks of an ACL to create (CreateAclsRequest, AclApis): anything unknown or ambiguous is refused. */
function invalidBinding(acl: AclBinding): string | null {
  if (!BINDABLE_RESOURCE_TYPES.has(acl.resourceType))
    return `resource type ${acl.resourceType} cannot hold ACLs`;
  if (acl.patternType !== AclPatternType.LITERAL && acl.patternType !== AclPatternType.PREFIXED)
    return 'the pattern type must be LITERAL or PREFIXED';
  if (
    acl.operation === AclOperation.ANY ||
    acl.operation === AclOperation.UNKNOWN ||
    acl.operation > AclOperation.DESCRIBE_TOKENS
  )
    return `operation ${acl.operation} is not an operation`;
  if (acl.permissionType !== AclPermissionType.ALLOW && acl.permissionType !== AclPermissionType.DENY)
    return 'the permission type must be ALLOW or DENY';
  if (acl.resourceName === '') return 'Invalid empty resource name';
  if (acl.resourceType === AclResourceType.CLUSTER && acl.resourceName !== CLUSTER_RESOURCE_NAME)
    return `The only valid name for the CLUSTER resource is ${CLUSTER_RESOURCE_NAME}`;
  if (!/^[A-Za-z][A-Za-z0-9]*:.+$/.test(acl.principal))
    return `"${acl.principal}" is not a principal TYPE:NAME`;
  if (acl.host === '') return 'the host must be an address or *';
  return null;
}

function invalidFilter(f: AclBindingFilter): string | null {
  if (f.resourceType === AclResourceType.UNKNOWN || f.resourceType > AclResourceType.USER)
    return 'unknown resource type';
  if (f.patternType === AclPatternType.UNKNOWN || f.patternType > AclPatternType.PREFIXED)
    return 'unknown pattern type';
  if (f.operation === AclOperation.UNKNOWN || f.operation > AclOperation.DESCRIBE_TOKENS)
    return 'unknown operation';
  if (f.permissionType === AclPermissionType.UNKNOWN || f.permissionType > AclPermissionType.ALLOW)
    return 'unknown permission type';
  return null;
}

/** CreateAcls (ALTER on the cluster): each creation's result in order. */
function createAclsHandler(ctx: BrokerContext): ApiHandler<typeof CreateAcls> {
  return {
    api: CreateAcls,
    async handle(request, { connection }) {
      const fail = (errorCode: number, errorMessage: string) => ({
        throttleTimeMs: 0,
        results: request.creations.map(() => ({ errorCode, errorMessage })),
      });
      if (!ctx.security.authorizer.enabled) return fail(ErrorCode.SECURITY_DISABLED, NO_AUTHORIZER);
      if (!authorizeCluster(ctx, connection, AclOperation.ALTER))
        return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'ALTER on the cluster is needed to create ACLs');
      const bindings: AclBinding[] = request.creations.map((c) => ({
        resourceType: c.resourceType,
        resourceName: c.resourceName,
        patternType: c.resourcePatternType,
        principal: c.principal,
        host: c.host,
        operation: c.operation,
        permissionType: c.permissionType,
      }));
      const problems = bindings.map(invalidBinding);
      try {
        await ctx.security.createAcls(bindings.filter((_, i) => problems[i] === null));
      } catch (err) {
        ctx.logger.error(`creating ACLs failed: ${(err as Error).message}`);
        return fail(errorCodeOf(err), `the ACLs could not be stored: ${(err as Error).message}`);
      }
      return {
        throttleTimeMs: 0,
        results: problems.map((p) =>
          p === null
            ? { errorCode: ErrorCode.NONE, errorMessage: null }
            : { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: p },
        ),
      };
    },
  };
}

/** DescribeAcls (DESCRIBE on the cluster): matching ACLs grouped by resource pattern. */
function describeAclsHandler(ctx: BrokerContext): ApiHandler<typeof DescribeAcls> {
  return {
    api: DescribeAcls,
    handle(request, { connection }) {
      const fail = (errorCode: number, errorMessage: string) => ({
        throttleTimeMs: 0,
        errorCode,
        errorMessage,
        resources: [],
      });
      if (!ctx.security.authorizer.enabled) return fail(ErrorCode.SECURITY_DISABLED, NO_AUTHORIZER);
      if (!authorizeCluster(ctx, connection, AclOperation.DESCRIBE))
        return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'DESCRIBE on the cluster is needed to list ACLs');
      const filter: AclBindingFilter = {
        resourceType: request.resourceTypeFilter,
        resourceName: request.resourceNameFilter,
        patternType: request.patternTypeFilter,
        principal: request.principalFilter,
        host: request.hostFilter,
        operation: request.operation,
        permissionType: request.permissionType,
      };
      const invalid = invalidFilter(filter);
      if (invalid !== null) return fail(ErrorCode.INVALID_REQUEST, invalid);
      const groups = new Map<
        string,
        { resourceType: number; resourceName: string; patternType: number; acls: AclBinding[] }
      >();
      for (const acl of ctx.security.describeAcls(filter)) {
        const key = `${acl.resourceType}\u0000${acl.patternType}\u0000${acl.resourceName}`;
        let g = groups.get(key);
        if (g === undefined)
          groups.set(
            key,
            (g = {
              resourceType: acl.resourceType,
              resourceName: acl.resourceName,
              patternType: acl.patternType,
              acls: [],
            }),
          );
        g.acls.push(acl);
      }
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        resources: [...groups.values()].map((g) => ({
          resourceType: g.resourceType,
          resourceName: g.resourceName,
          patternType: g.patternType,
          acls: g.acls.map((a) => ({
            principal: a.principal,
            host: a.host,
            operation: a.operation,
            permissionType: a.permissionType,
          })),
        })),
      };
    },
  };
}

/** DeleteAcls (ALTER on the cluster): what each filter matched, now deleted. */
function deleteAclsHandler(ctx: BrokerContext): ApiHandler<typeof DeleteAcls> {
  return {
    api: DeleteAcls,
    async handle(request, { connection }) {
      const fail = (errorCode: number, errorMessage: string) => ({
        throttleTimeMs: 0,
        filterResults: request.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })),
      });
      if (!ctx.security.authorizer.enabled) return fail(ErrorCode.SECURITY_DISABLED, NO_AUTHORIZER);
      if (!authorizeCluster(ctx, connection, AclOperation.ALTER))
        return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'ALTER on the cluster is needed to delete ACLs');
      const filters: AclBindingFilter[] = request.filters.map((f) => ({
        resourceType: f.resourceTypeFilter,
        resourceName: f.resourceNameFilter,
        patternType: f.patternTypeFilter,
        principal: f.principalFilter,
        host: f.hostFilter,
        operation: f.operation,
        permissionType: f.permissionType,
      }));
      const problems = filters.map(invalidFilter);
      let matched: AclBinding[][];
      try {
        matched = await ctx.security.deleteAcls(filters.filter((_, i) => problems[i] === null));
      } catch (err) {
        ctx.logger.error(`deleting ACLs failed: ${(err as Error).message}`);
        return fail(errorCodeOf(err), `the ACLs could not be deleted: ${(err as Error).message}`);
      }
      let next = 0;
      return {
        throttleTimeMs: 0,
        filterResults: problems.map((p) => {
          if (p !== null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: p, matchingAcls: [] };
          return {
            errorCode: ErrorCode.NONE,
            errorMessage: null,
            matchingAcls: matched[next++].map((a) => ({
              errorCode: ErrorCode.NONE,
              errorMessage: null,
              resourceType: a.resourceType,
              resourceName: a.resourceName,
              patternType: a.patternType,
              principal: a.principal,
              host: a.host,
              operation: a.operation,
              permissionType: a.permissionType,
            })),
          };
        }),
      };
    },
  };
}

/** DescribeUserScramCredentials (DESCRIBE on the cluster): mechanisms and iterations per user, never keys. */
function describeUserScramCredentialsHandler(
  ctx: BrokerContext,
): ApiHandler<typeof DescribeUserScramCredentials> {
  return {
    api: DescribeUserScramCredentials,
    handle(request, { connection }) {
      if (!authorizeCluster(ctx, connection, AclOperation.DESCRIBE)) {
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          errorMessage: 'DESCRIBE on the cluster is needed to describe SCRAM credentials',
          results: [],
        };
      }
      const all = ctx.security.describeCredentials();
      const credentialInfos = (user: string) =>
        (all.get(user) ?? []).map((c) => ({
          mechanism: scramMechanismType(c.mechanism),
          iterations: c.iterations,
        }));
      const asked =
        request.users === null || request.users.length === 0 ? null : request.users.map((u) => u.name);
      const counts = new Map<string, number>();
      for (const u of asked ?? []) counts.set(u, (counts.get(u) ?? 0) + 1);
      const results = (asked === null ? [...all.keys()].sort() : [...new Set(asked)]).map((user) => {
        if ((counts.get(user) ?? 0) > 1)
          return {
            user,
            errorCode: ErrorCode.DUPLICATE_RESOURCE,
            errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`,
            credentialInfos: [],
          };
        if (!all.has(user))
          return {
            user,
            errorCode: ErrorCode.RESOURCE_NOT_FOUND,
            errorMessage: `Attempt to describe a user credential that does not exist: ${user}`,
            credentialInfos: [],
          };
        return {
          user,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          credentialInfos: credentialInfos(user),
        };
      });
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results };
    },
  };
}

/**
 * AlterUserScramCredentials (ALTER on the cluster). The client sends a salt and the salted
 * password; only the salt, StoredKey, ServerKey and iterations are kept. A user with any
 * invalid alteration has none of them applied, as in Kafka.
 */
function alterUserScramCredentialsHandler(ctx: BrokerContext): ApiHandler<typeof AlterUserScramCredentials> {
  return {
    api: AlterUserScramCredentials,
    async handle(request, { connection }) {
      const users = [
        ...new Set([...request.deletions.map((d) => d.name), ...request.upsertions.map((u) => u.name)]),
      ];
      const result = (user: string, errorCode: number, errorMessage: string | null) => ({
        user,
        errorCode,
        errorMessage,
      });
      if (!authorizeCluster(ctx, connection, AclOperation.ALTER)) {
        return {
          throttleTimeMs: 0,
          results: users.map((u) =>
            result(
              u,
              ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
              'ALTER on the cluster is needed to alter SCRAM credentials',
            ),
          ),
        };
      }
      const errors = new Map<string, { code: number; message: string }>();
      const failUser = (user: string, code: number, message: string) => {
        if (!errors.has(user)) errors.set(user, { code, message });
      };
      const seen = new Set<string>();
      const existing = ctx.security.describeCredentials();
      const mechanismOf = (user: string, type: number): ScramMechanism | undefined => {
        const m = scramMechanismOfType(type);
        if (m === undefined) failUser(user, ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism');
        return m;
      };
      const once = (user: string, mechanism: ScramMechanism) => {
        const key = `${mechanism}:${user}`;
        if (seen.has(key))
          failUser(
            user,
            ErrorCode.DUPLICATE_RESOURCE,
            'A user credential cannot be altered twice in the same request',
          );
        seen.add(key);
      };
      const deletions: { user: string; mechanism: ScramMechanism }[] = [];
      for (const d of request.deletions) {
        if (d.name === '') {
          failUser(d.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty');
          continue;
        }
        const mechanism = mechanismOf(d.name, d.mechanism);
        if (mechanism === undefined) continue;
        once(d.name, mechanism);
        if (!(existing.get(d.name) ?? []).some((c) => c.mechanism === mechanism))
          failUser(
            d.name,
            ErrorCode.RESOURCE_NOT_FOUND,
            'Attempt to delete a user credential that does not exist',
          );
        deletions.push({ user: d.name, mechanism });
      }
      const upserts: StoredCredential[] = [];
      for (const u of request.upsertions) {
        if (u.name === '') {
          failUser(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty');
          continue;
        }
        const mechanism = mechanismOf(u.name, u.mechanism);
        if (mechanism === undefined) continue;
        once(u.name, mechanism);
        if (u.iterations < SCRAM_MIN_ITERATIONS)
          failUser(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too few iterations');
        else if (u.iterations > SCRAM_MAX_ITERATIONS)
          failUser(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too many iterations');
        else if (u.salt.length === 0 || u.saltedPassword.length === 0)
          failUser(
            u.name,
            ErrorCode.UNACCEPTABLE_CREDENTIAL,
            'The salt and the salted password must not be empty',
          );
        else
          upserts.push({
            user: u.name,
            mechanism,
            credential: scramCredential(mechanism, u.salt, u.saltedPassword, u.iterations),
          });
      }
      try {
        await ctx.security.alterCredentials(
          upserts.filter((u) => !errors.has(u.user)),
          deletions.filter((d) => !errors.has(d.user)),
        );
      } catch (err) {
        ctx.logger.error(`altering SCRAM credentials failed: ${(err as Error).message}`);
        const code = err instanceof KafkaProtocolError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
        for (const u of users) failUser(u, code, 'the credentials could not be stored');
      }
      return {
        throttleTimeMs: 0,
        results: users.map((u) => {
          const e = errors.get(u);
          return e === undefined ? result(u, ErrorCode.NONE, null) : result(u, e.code, e.message);
        }),
      };
    },
  };
}

/** SASL outside authentication, ACLs and SCRAM credentials. */
export function securityHandlers(ctx: BrokerContext): ApiHandler[] {
  return [
    saslHandshakeHandler(),
    saslAuthenticateHandler(),
    createAclsHandler(ctx),
    describeAclsHandler(ctx),
    deleteAclsHandler(ctx),
    describeUserScramCredentialsHandler(ctx),
    alterUserScramCredentialsHandler(ctx),
  ] as ApiHandler[];
}

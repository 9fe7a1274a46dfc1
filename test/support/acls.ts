import { AclPatternType, AclPermissionType } from '@tributary/client';

/** An ALLOW binding for any host, literal unless a pattern type is given (tests' ACL shorthand). */
export const allow = (
  principal: string,
  resourceType: number,
  resourceName: string,
  operation: number,
  patternType: number = AclPatternType.LITERAL,
) => ({
  principal,
  resourceType,
  resourceName,
  operation,
  patternType,
  permissionType: AclPermissionType.ALLOW,
});

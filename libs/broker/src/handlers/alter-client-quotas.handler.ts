import { AclOperation, AlterClientQuotas, ErrorCode, errorCodeOf } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import {
  entityPath,
  isQuotaKey,
  validateEntity,
  validateQuotaValue,
  type QuotaAlteration,
  type QuotaKey,
} from '../quota/quota-entity';
import { authorizeCluster } from '../security/authorize';
import type { ApiHandler } from './handler';

/**
 * AlterClientQuotas (ALTER_CONFIGS on the cluster). Each entry is checked as Kafka checks it
 * (entity types and names, keys, values above 0, whole byte rates, a key or an entity once);
 * the valid ones are stored together, then every broker enforces them. validateOnly stores nothing.
 */
export function alterClientQuotasHandler(ctx: BrokerContext): ApiHandler<typeof AlterClientQuotas> {
  return {
    api: AlterClientQuotas,
    async handle(request, { connection }) {
      const result = (
        entity: (typeof request.entries)[number]['entity'],
        code: number,
        message: string | null,
      ) => ({
        errorCode: code,
        errorMessage: message,
        entity,
      });
      if (!authorizeCluster(ctx, connection, AclOperation.ALTER_CONFIGS)) {
        return {
          throttleTimeMs: 0,
          entries: request.entries.map((e) =>
            result(
              e.entity,
              ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
              'ALTER_CONFIGS on the cluster is needed to alter client quotas',
            ),
          ),
        };
      }
      const errors: (string | null)[] = [];
      const valid: { index: number; alteration: QuotaAlteration }[] = [];
      const seen = new Set<string>();
      request.entries.forEach((e, index) => {
        const error = (message: string) => errors.push(message);
        const entity = validateEntity(e.entity);
        if (typeof entity === 'string') return error(entity);
        const path = entityPath(entity);
        if (seen.has(path)) return error(`Ignoring duplicate entity ${describe(e.entity)}`);
        seen.add(path);
        const set: Partial<Record<QuotaKey, number>> = {};
        const remove: QuotaKey[] = [];
        const keys = new Set<string>();
        for (const op of e.ops) {
          if (keys.has(op.key))
            return error(
              `Duplicate quota key ${op.key} not updating quota for this entity ${describe(e.entity)}`,
            );
          keys.add(op.key);
          // As Kafka: removing a key the entity does not have is no error.
          if (op.remove) {
            if (isQuotaKey(op.key)) remove.push(op.key);
            continue;
          }
          const invalid = validateQuotaValue(op.key, op.value);
          if (invalid !== null) return error(invalid);
          set[op.key as QuotaKey] = op.value;
        }
        errors.push(null);
        valid.push({ index, alteration: { entity, set, remove } });
      });
      let storeError: { code: number; message: string } | null = null;
      if (!request.validateOnly) {
        try {
          await ctx.quotas.alter(valid.map((v) => v.alteration));
        } catch (err) {
          ctx.logger.error(`altering client quotas failed: ${(err as Error).message}`);
          storeError = {
            code: errorCodeOf(err),
            message: `the client quotas could not be stored: ${(err as Error).message}`,
          };
        }
      }
      return {
        throttleTimeMs: 0,
        entries: request.entries.map((e, i) => {
          const message = errors[i];
          if (message !== null) return result(e.entity, ErrorCode.INVALID_REQUEST, message);
          if (storeError !== null) return result(e.entity, storeError.code, storeError.message);
          return result(e.entity, ErrorCode.NONE, null);
        }),
      };
    },
  };
}

/** Kafka's ClientQuotaEntity.toString: ClientQuotaEntity(entries={user=alice, client-id=null}). */
function describe(entity: readonly { entityType: string; entityName: string | null }[]): string {
  return `ClientQuotaEntity(entries={${entity.map((c) => `${c.entityType}=${c.entityName}`).join(', ')}})`;
}

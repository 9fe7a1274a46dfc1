import { integer, optional, string } from './schema';

/** Injection tokens of the console module. */
export const CONSOLE_OPTIONS = Symbol('CONSOLE_OPTIONS');
export const FLOW_SOURCE = Symbol('FLOW_SOURCE');
export const METRICS_REGISTRY = Symbol('CONSOLE_METRICS_REGISTRY');
/** The console's ConsoleSecurity, or null when its API is open. */
export const CONSOLE_SECURITY = Symbol('CONSOLE_SECURITY');

/** Kafka's rule for topic names (Topic.validate): legal characters, at most 249, not "." or "..". */
export const TOPIC_NAME = /^(?!\.{1,2}$)[a-zA-Z0-9._-]{1,249}$/;

export const topicName = (description = 'Topic name') =>
  string({
    pattern: TOPIC_NAME,
    patternHint: 'must be 1 to 249 letters, digits, ".", "_" or "-" (and not "." or "..")',
    description,
    example: 'orders',
  });

export const clusterAlias = () =>
  string({ minLength: 1, description: 'Cluster alias from the console config', example: 'dc1-a' });

export const PAGING = {
  limit: optional(integer({ min: 1, max: 1000, description: 'Items per page' }), 100),
  offset: optional(integer({ min: 0, description: 'Items to skip' }), 0),
};

export interface Page<T> {
  readonly items: T[];
  readonly total: number;
  readonly limit: number;
  readonly offset: number;
  readonly nextOffset: number | null;
}

export function page<T>(all: readonly T[], limit: number, offset: number): Page<T> {
  const end = offset + limit;
  return {
    items: all.slice(offset, end),
    total: all.length,
    limit,
    offset,
    nextOffset: end < all.length ? end : null,
  };
}

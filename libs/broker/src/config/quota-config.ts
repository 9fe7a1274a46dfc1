import type { ConfigKeyDef } from './broker-config';
import { ConfigError } from './config-error';
import type { QuotaWindow } from '../quota/rate';

export const QUOTA_CONFIG_KEYS: readonly ConfigKeyDef[] = [
  {
    name: 'quota.window.num',
    type: 'int',
    default: '11',
    doc: 'The number of samples to retain in memory for client quotas.',
  },
  {
    name: 'quota.window.size.seconds',
    type: 'int',
    default: '1',
    doc: 'The time span of each sample for client quotas.',
  },
];

/** How client quotas are measured: quota.window.num samples of quota.window.size.seconds (both at least 1). */
export function parseQuotaConfig(
  get: (name: string) => string | null,
  origin: (name: string) => string,
): QuotaWindow {
  for (const name of ['quota.window.num', 'quota.window.size.seconds'])
    if (Number(get(name)) < 1) throw new ConfigError(origin(name), name, 'must be at least 1');
  return {
    samples: Number(get('quota.window.num')),
    windowMs: Number(get('quota.window.size.seconds')) * 1000,
  };
}

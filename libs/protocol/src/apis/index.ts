import type { ApiDefinition } from '../schema';
import { ApiVersions } from './api-versions';
import { Produce } from './produce';

export { ApiVersions, Produce };

/** Every API this project implements, by key. ApiVersions advertises exactly these. */
export const ALL_APIS: readonly ApiDefinition[] = [ApiVersions, Produce];

const BY_KEY = new Map<number, ApiDefinition>(ALL_APIS.map((api) => [api.apiKey, api]));

export function apiByKey(apiKey: number): ApiDefinition | undefined {
  return BY_KEY.get(apiKey);
}

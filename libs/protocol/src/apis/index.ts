import type { ApiDefinition } from '../schema';
import { ApiVersions } from './api-versions';
import { Produce } from './produce';
import { Metadata } from './metadata';
import { Fetch } from './fetch';
import { ListOffsets } from './list-offsets';
import { CreateTopics } from './create-topics';
import { DeleteTopics } from './delete-topics';
import { CreatePartitions } from './create-partitions';
import { DescribeConfigs } from './describe-configs';
import { AlterConfigs } from './alter-configs';
import { IncrementalAlterConfigs } from './incremental-alter-configs';
import { DescribeCluster } from './describe-cluster';
import { DeleteRecords } from './delete-records';
import { SaslHandshake } from './sasl-handshake';
import { SaslAuthenticate } from './sasl-authenticate';

export { ApiVersions, Produce };
export {
  Metadata,
  Fetch,
  ListOffsets,
  CreateTopics,
  DeleteTopics,
  CreatePartitions,
  DescribeConfigs,
  AlterConfigs,
  IncrementalAlterConfigs,
  DescribeCluster,
  DeleteRecords,
  SaslHandshake,
  SaslAuthenticate,
};

/** Every API this project implements, by key. ApiVersions advertises exactly these. */
export const ALL_APIS: readonly ApiDefinition[] = [
  ApiVersions,
  Produce,
  Metadata,
  Fetch,
  ListOffsets,
  CreateTopics,
  DeleteTopics,
  CreatePartitions,
  DescribeConfigs,
  AlterConfigs,
  IncrementalAlterConfigs,
  DescribeCluster,
  DeleteRecords,
  SaslHandshake,
  SaslAuthenticate,
];

const BY_KEY = new Map<number, ApiDefinition>(ALL_APIS.map((api) => [api.apiKey, api]));

export function apiByKey(apiKey: number): ApiDefinition | undefined {
  return BY_KEY.get(apiKey);
}

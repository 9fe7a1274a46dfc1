import { defineApi } from '../schema';

/** DescribeCluster (key 60). Flexible in every version; v1 adds endpointType (1 brokers, 2 controllers). */
export const DescribeCluster = defineApi({
  apiKey: 60,
  name: 'DescribeCluster',
  versions: '0-1',
  flexibleVersions: '0+',
  request: {
    includeClusterAuthorizedOperations: 'bool',
    endpointType: { type: 'int8', versions: '1+', default: 1 },
  },
  response: {
    throttleTimeMs: 'int32',
    errorCode: 'int16',
    errorMessage: { type: 'string', nullable: '0+', default: null },
    endpointType: { type: 'int8', versions: '1+', default: 1 },
    clusterId: 'string',
    controllerId: { type: 'int32', default: -1 },
    brokers: {
      type: 'struct[]',
      fields: {
        brokerId: 'int32',
        host: 'string',
        port: 'int32',
        rack: { type: 'string', nullable: '0+', default: null },
      },
    },
    clusterAuthorizedOperations: { type: 'int32', default: -2147483648 },
  },
});

export * from './broker';
export * from './broker.module';
export * from './broker-context';
export * from './broker-metrics';
export * from './config/broker-config';
export * from './config/config-error';
export * from './network/kafka-server';

import {
  DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import type { MetricsRegistry } from '@tributary/metrics';
import { Broker } from './broker';
import type { BrokerConfig } from './config/broker-config';

export const BROKER_CONFIG = Symbol('BROKER_CONFIG');
export const BROKER_METRICS_REGISTRY = Symbol('BROKER_METRICS_REGISTRY');

/** Hosts a Broker's life cycle in Nest: started at bootstrap, stopped cleanly on SIGTERM. */
@Injectable()
export class BrokerService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly broker: Broker;
  private readonly logger: Logger;

  constructor(
    @Inject(BROKER_CONFIG) config: BrokerConfig,
    @Optional() @Inject(BROKER_METRICS_REGISTRY) registry?: MetricsRegistry,
  ) {
    this.logger = new Logger(`broker-${config.nodeId}`);
    this.broker = new Broker(config, this.logger, registry);
  }

  async onApplicationBootstrap(): Promise<void> {
    const addresses = await this.broker.start();
    for (const a of addresses) {
      this.logger.log(
        `node ${this.broker.config.nodeId} of cluster ${this.broker.clusterId} listening on ${a.host}:${a.port}`,
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.broker.stop();
    this.logger.log('stopped: in-flight requests answered, segments flushed and closed');
  }
}

@Module({})
export class BrokerModule {
  /** With a registry, the broker's metrics go there (the console's /metrics serves it in one process). */
  static forRoot(config: BrokerConfig, registry?: MetricsRegistry): DynamicModule {
    return {
      module: BrokerModule,
      providers: [
        { provide: BROKER_CONFIG, useValue: config },
        ...(registry ? [{ provide: BROKER_METRICS_REGISTRY, useValue: registry }] : []),
        BrokerService,
      ],
      exports: [BrokerService],
    };
  }
}

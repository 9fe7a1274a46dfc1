import {
  DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import type { MetricsRegistry } from '@tributary/metrics';
import { Broker } from './broker';
import type { BrokerLogger, MembershipFactory } from './broker-context';
import type { BrokerConfig } from './config/broker-config';
import type { LoggerLevels } from './logger-levels';

export const BROKER_OPTIONS = Symbol('BROKER_OPTIONS');

export interface BrokerModuleOptions {
  /** One broker per process in production; several for a local cluster in one process. */
  readonly brokers: readonly BrokerConfig[];
  /** How a broker joins a replicated cluster (when its config has one); a lone broker otherwise. */
  readonly membership?: (config: BrokerConfig) => MembershipFactory | undefined;
  /** With a registry, the brokers' metrics go there (the console's /metrics serves it in one process). */
  readonly registry?: MetricsRegistry;
  /** The process' loggers, which BROKER_LOGGER resources show and change at runtime. */
  readonly loggerLevels?: LoggerLevels;
}

/**
 * A broker's logger through Nest's Logger (whatever logger the app gave Nest), named by
 * `context`. It has debug only while Nest's level lets debug through (levels change at
 * runtime), so the request path builds no debug line otherwise.
 */
export function nestBrokerLogger(context: string): BrokerLogger {
  const logger = new Logger(context);
  const debug = (m: string) => logger.debug(m);
  return {
    log: (m) => logger.log(m),
    warn: (m) => logger.warn(m),
    error: (m) => logger.error(m),
    get debug() {
      return Logger.isLevelEnabled('debug') ? debug : undefined;
    },
  };
}

/**
 * Hosts brokers' life cycles in Nest: started at bootstrap in order, stopped cleanly (in
 * reverse) on SIGTERM. Each broker is the same Broker a one-broker process runs.
 */
@Injectable()
export class BrokerService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly brokers: readonly Broker[];
  private readonly loggers: BrokerLogger[];

  constructor(@Inject(BROKER_OPTIONS) options: BrokerModuleOptions) {
    this.loggers = options.brokers.map((config) => nestBrokerLogger(`broker-${config.nodeId}`));
    this.brokers = options.brokers.map(
      (config, i) =>
        new Broker(config, this.loggers[i], {
          membership: options.membership?.(config),
          registry: options.registry,
          loggerLevels: options.loggerLevels,
        }),
    );
  }

  get broker(): Broker {
    return this.brokers[0];
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const [i, broker] of this.brokers.entries()) {
      const addresses = await broker.start();
      for (const a of addresses) {
        this.loggers[i].log(
          `node ${broker.config.nodeId} of cluster ${broker.clusterId} listening on ${a.host}:${a.port} ` +
            `(listener ${a.name}, ${broker.config.security.listeners.get(a.name ?? '')?.protocol ?? 'PLAINTEXT'})`,
        );
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    for (const [i, broker] of [...this.brokers.entries()].reverse()) {
      await broker.stop();
      this.loggers[i].log('stopped: in-flight requests answered, segments flushed and closed');
    }
  }
}

@Module({})
export class BrokerModule {
  static forRoot(options: BrokerConfig | BrokerModuleOptions): DynamicModule {
    const normalized: BrokerModuleOptions = 'brokers' in options ? options : { brokers: [options] };
    return {
      module: BrokerModule,
      providers: [{ provide: BROKER_OPTIONS, useValue: normalized }, BrokerService],
      exports: [BrokerService],
    };
  }
}

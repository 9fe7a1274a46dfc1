import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { MetricsRegistry, type Collector } from '@tributary/metrics';
import { BearerAuthGuard } from './auth/bearer-auth.guard';
import type { ConsoleSecurity } from './auth/bearer-tokens';
import type { ClusterConfig } from './config/console-config';
import { collectConsoleMetrics } from './console-metrics';
import { NO_MIRROR, type FlowStatusSource } from './flows/flow-source';
import { ClustersController } from './http/clusters.controller';
import { CONSOLE_SECURITY, FLOW_SOURCE, METRICS_REGISTRY } from './http/common';
import { ApiExceptionFilter } from './http/exception.filter';
import { FlowsController } from './http/flows.controller';
import { GroupsController } from './http/groups.controller';
import { HealthController } from './http/health.controller';
import { MetricsController } from './http/metrics.controller';
import { DashboardController, DocsController } from './http/static.controller';
import { TopicsController } from './http/topics.controller';
import { ClusterConnections } from './ops/cluster-connections';

export interface ConsoleModuleOptions {
  /** The clusters to show, by alias. */
  readonly clusters: readonly ClusterConfig[];
  /** Where /metrics reads from: pass the registry the process' brokers report into. */
  readonly metrics?: MetricsRegistry;
  /** The replicator's flows; without one, the console says no mirror is configured. */
  readonly flows?: FlowStatusSource;
  /**
   * Bearer tokens with roles (the console config's `security`): with them every /api and
   * /metrics request needs a token; without them the console is open, as for a demo.
   */
  readonly security?: ConsoleSecurity | null;
}

/** Opens nothing until asked; closes every cluster client and removes its metrics collector on shutdown. */
@Injectable()
class ConsoleLifecycle implements OnModuleInit, OnModuleDestroy {
  private readonly collector: Collector;

  constructor(
    @Inject(ClusterConnections) private readonly clusters: ClusterConnections,
    @Inject(METRICS_REGISTRY) private readonly registry: MetricsRegistry,
    @Inject(FLOW_SOURCE) flows: FlowStatusSource,
  ) {
    this.collector = () => collectConsoleMetrics(clusters, flows);
  }

  onModuleInit(): void {
    this.registry.addCollector(this.collector);
  }

  async onModuleDestroy(): Promise<void> {
    this.registry.removeCollector(this.collector);
    await this.clusters.close();
  }
}

/**
 * The operators' console as a Nest module: the REST API under /api, /metrics, the OpenAPI
 * document and its docs at /docs, and the dashboard at /. An application hosting brokers
 * and the replicator in one process imports it with their registry and flow source. With
 * `security`, one global guard asks every API request for a bearer token of the role its
 * endpoint needs.
 */
@Module({})
export class ConsoleModule {
  static forRoot(options: ConsoleModuleOptions): DynamicModule {
    return {
      module: ConsoleModule,
      imports: [DiscoveryModule],
      controllers: [
        ClustersController,
        TopicsController,
        GroupsController,
        FlowsController,
        HealthController,
        MetricsController,
        DocsController,
        DashboardController,
      ],
      providers: [
        { provide: ClusterConnections, useFactory: () => new ClusterConnections(options.clusters) },
        { provide: METRICS_REGISTRY, useValue: options.metrics ?? new MetricsRegistry() },
        { provide: FLOW_SOURCE, useValue: options.flows ?? NO_MIRROR },
        { provide: CONSOLE_SECURITY, useValue: options.security ?? null },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        // One gate instance: the filter asks it about unrouted requests, sharing its guess counts.
        BearerAuthGuard,
        { provide: APP_GUARD, useExisting: BearerAuthGuard },
        ConsoleLifecycle,
      ],
      exports: [ClusterConnections],
    };
  }
}

import {
  DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import type { MirrorConfig } from './config';
import { Mirror, type MirrorOptions } from './mirror';
import type { RedisEndpoint } from './redis-endpoint';

export const MIRROR_SETTINGS = Symbol('MIRROR_SETTINGS');

export interface MirrorSettings {
  readonly config: MirrorConfig;
  /** Where Redis is; a function when it is only known at start (the demo's private redis-server). */
  readonly redis: RedisEndpoint | (() => RedisEndpoint);
  readonly options?: MirrorOptions;
}

/** Hosts the replicator in Nest: started at bootstrap, stopped on shutdown (units yield to other workers). */
@Injectable()
export class MirrorService implements OnApplicationBootstrap, OnApplicationShutdown {
  private mirrorInstance: Mirror | null = null;
  private readonly logger = new Logger('mirror');

  constructor(@Inject(MIRROR_SETTINGS) private readonly settings: MirrorSettings) {}

  get mirror(): Mirror {
    if (this.mirrorInstance === null) throw new Error('the mirror is not started');
    return this.mirrorInstance;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.mirrorInstance = new Mirror(this.settings.config, this.settings.redis, this.logger);
    await this.mirrorInstance.start(this.settings.options);
    const flows = this.settings.config.flows.map((f) => f.name).join(', ') || 'none';
    this.logger.log(`mirror worker ${process.pid} running flows: ${flows}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.mirrorInstance?.stop();
  }
}

@Module({})
export class MirrorModule {
  static forRoot(settings: MirrorSettings): DynamicModule {
    return {
      module: MirrorModule,
      providers: [{ provide: MIRROR_SETTINGS, useValue: settings }, MirrorService],
      exports: [MirrorService],
    };
  }
}

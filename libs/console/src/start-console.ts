import type { AddressInfo } from 'node:net';
import { ConsoleLogger, type INestApplication, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConsoleModule, type ConsoleModuleOptions } from './console.module';

export interface RunningConsole {
  readonly app: INestApplication;
  /** http://host:port */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Nest's own start-up lines at level log (modules loaded, routes mapped): noise to an operator. */
const NEST_STARTUP = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

/** Nest's console logger without its start-up chatter, so level log carries the console's own lines (the audit of changes). */
class ConsoleProcessLogger extends ConsoleLogger {
  override log(message: unknown, ...optionalParams: unknown[]): void {
    const context = optionalParams.length > 0 ? optionalParams[optionalParams.length - 1] : this.context;
    if (typeof context === 'string' && NEST_STARTUP.has(context)) return;
    super.log(message, ...(optionalParams as [string?]));
  }
}

/** Runs the console on its own HTTP listener (the `tributary console` command, tests). */
export async function startConsole(
  options: ConsoleModuleOptions & { host: string; port: number; logLevels?: LogLevel[] },
): Promise<RunningConsole> {
  const app = await NestFactory.create(ConsoleModule.forRoot(options), {
    logger: new ConsoleProcessLogger({ logLevels: options.logLevels ?? ['log', 'warn', 'error'] }),
  });
  await app.listen(options.port, options.host);
  const address = (app.getHttpServer() as { address(): AddressInfo }).address();
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    app,
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () => app.close(),
  };
}

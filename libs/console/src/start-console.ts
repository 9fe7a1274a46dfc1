import type { AddressInfo } from 'node:net';
import type { INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConsoleModule, type ConsoleModuleOptions } from './console.module';

export interface RunningConsole {
  readonly app: INestApplication;
  /** http://host:port */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Runs the console on its own HTTP listener (the `tributary console` command, tests). `logger`
 * is the host's (the app's, over pino); without one, Nest's console logger at `logLevels`.
 */
export async function startConsole(
  options: ConsoleModuleOptions & {
    host: string;
    port: number;
    logger?: LoggerService;
    logLevels?: LogLevel[];
  },
): Promise<RunningConsole> {
  const app = await NestFactory.create(ConsoleModule.forRoot(options), {
    logger: options.logger ?? options.logLevels ?? ['warn', 'error'],
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

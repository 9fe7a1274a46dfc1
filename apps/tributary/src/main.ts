import 'reflect-metadata';
import { ConfigError } from '@tributary/broker';
import { KafkaProtocolError } from '@tributary/client';
import { ApiError, ConsoleConfigError, OperationError } from '@tributary/console';
import { MirrorConfigError } from '@tributary/mirror';
import { CommanderError } from 'commander';
import { UsageError } from './cli/options';
import { buildProgram } from './cli/program';
import { activeLogger } from './logging/logger';

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  if (argv.length === 0) {
    program.outputHelp();
    return;
  }
  await program.parseAsync(argv, { from: 'user' });
}

main(process.argv.slice(2)).catch((err: unknown) => {
  // Commander printed the message and the usage already; help asked for is a success.
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  if (
    err instanceof UsageError ||
    err instanceof ConfigError ||
    err instanceof MirrorConfigError ||
    err instanceof ConsoleConfigError
  ) {
    console.error(`tributary: ${err.message}`);
    process.exit(2);
  }
  // What the cluster answered (a topic that exists, a group with members): said plainly.
  if (err instanceof OperationError || err instanceof ApiError || err instanceof KafkaProtocolError) {
    console.error(`tributary: ${err.message}`);
    process.exit(1);
  }
  // A command that started logging reports how it ended there (a JSON record with --log-format json).
  const logger = activeLogger();
  if (logger !== null) logger.fatal(err, 'tributary');
  else console.error(err);
  process.exit(1);
});

import { Command, type Option } from 'commander';
import { brokerCommand } from '../commands/broker.command';
import { clusterCommand } from '../commands/cluster.command';
import { consoleCommand } from '../commands/console.command';
import { demoCommand } from '../commands/demo.command';
import { groupsCommand } from '../commands/groups.command';
import { mirrorCommand } from '../commands/mirror.command';
import { topicsCommand } from '../commands/topics.command';
import { completionCommand } from './completion';
import { isRepeatable, UsageError } from './options';

/**
 * The commands of `tributary`, in the order of its help. Each is declared (options, help,
 * action) in its own file; a subcommand is one more entry in its command's declaration.
 */
const COMMANDS: readonly (() => Command)[] = [
  brokerCommand,
  demoCommand,
  clusterCommand,
  mirrorCommand,
  consoleCommand,
  topicsCommand,
  groupsCommand,
];

const EXAMPLES = `
Examples:
  npx tributary broker --node-id 1 --listen 127.0.0.1:9092 --data-dir ./var/b1
  npx tributary broker --config config/single.yaml
  npx tributary broker --node-id 1 --cluster-id demo --redis redis://127.0.0.1:6379 --listen 127.0.0.1:9092 --data-dir ./var/c1
  npx tributary cluster --config config/cluster.yaml
  npx tributary console --config config/console.yaml
  npx tributary topics list --bootstrap-server 127.0.0.1:9092
  npx tributary groups describe billing --bootstrap-server 127.0.0.1:9092 --json

Every command has --help (tributary topics create --help).`;

/** The `tributary` command line: every command and option, its help and its usage errors. */
export function buildProgram(): Command {
  const program = new Command('tributary')
    .description('tributary: a Kafka-compatible streaming platform')
    .usage('<command> [options]')
    .addHelpText('after', EXAMPLES);
  for (const command of COMMANDS) program.addCommand(command());
  program.addCommand(completionCommand(program));
  for (const cmd of tree(program)) {
    // Mistakes throw (main exits 2) after the message and the command's usage are printed.
    cmd
      .exitOverride()
      .showHelpAfterError()
      .configureOutput({ outputError: (text, write) => write(`tributary: ${usageMessage(cmd, text)}`) });
    for (const option of cmd.options) refuseRepeats(option);
  }
  return program;
}

function* tree(cmd: Command): Generator<Command> {
  yield cmd;
  for (const sub of cmd.commands) yield* tree(sub);
}

/** Commander's message in our words: flags and names unquoted, unknown commands named by their parent. */
function usageMessage(cmd: Command, text: string): string {
  const message = text.replace(/^error: /, '');
  const unknown = /^unknown command '([^']*)'/.exec(message);
  if (unknown !== null) {
    const what = cmd.parent === null ? 'command' : `${cmd.name()} command`;
    return message.replace(unknown[0], `unknown ${what} "${unknown[1]}"`);
  }
  const missing = /^missing required argument '([^']*)'/.exec(message);
  if (missing !== null) return `${missing[1]} is required\n`;
  return message.replace(/'(-[^']*)'/g, '$1');
}

/** An option that takes one value refuses a second, rather than the last silently winning. */
function refuseRepeats(option: Option): void {
  if (!(option.required || option.optional) || isRepeatable(option.parseArg)) return;
  const parse = option.parseArg;
  let given = false;
  option.argParser((value: string) => {
    if (given) throw new UsageError(`${option.long} is given more than once`);
    given = true;
    return parse === undefined ? value : parse(value, undefined);
  });
}

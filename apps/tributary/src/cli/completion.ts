import { Argument, Command, type Option } from 'commander';

/** The command's path from the root, as typed: `tributary topics create`. */
function pathOf(cmd: Command): string {
  return cmd.parent === null ? cmd.name() : `${pathOf(cmd.parent)} ${cmd.name()}`;
}

function* tree(cmd: Command): Generator<Command> {
  yield cmd;
  for (const sub of cmd.commands) yield* tree(sub);
}

const takesValue = (o: Option): boolean => o.required || o.optional;

/** How bash completes an option's value: its choices, file or directory names, or nothing. */
function valueCompletion(o: Option): string {
  if (o.argChoices !== undefined) return `COMPREPLY=($(compgen -W '${o.argChoices.join(' ')}' -- "$cur"))`;
  if (/<(FILE|DIR)>/.test(o.flags))
    return `compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -${o.flags.includes('<DIR>') ? 'd' : 'f'} -- "$cur"))`;
  return 'COMPREPLY=()';
}

/**
 * A bash completion script for `program`, built from its commands and options: subcommand
 * names, each command's flags, and option values (choices, files) after the flags that take one.
 */
export function bashCompletion(program: Command): string {
  const fn = `_${program.name()}_completion`;
  const subcommands: string[] = [];
  const valueOptions: string[] = [];
  const values = new Map<string, string[]>();
  const words: string[] = [];
  for (const cmd of tree(program)) {
    const path = pathOf(cmd);
    for (const sub of cmd.commands) subcommands.push(`'${path} ${sub.name()}'`);
    const options = cmd.options.filter((o) => !o.hidden && o.long !== undefined);
    for (const o of options.filter(takesValue)) {
      valueOptions.push(`'${path} ${o.long}'`);
      const completion = valueCompletion(o);
      values.set(completion, [...(values.get(completion) ?? []), `'${path} ${o.long}'`]);
    }
    const list = [
      ...cmd.commands.map((c) => c.name()),
      ...cmd.registeredArguments.flatMap((a) => a.argChoices ?? []),
      ...options.map((o) => o.long),
      '--help',
    ];
    words.push(`    '${path}') words='${list.join(' ')}' ;;`);
  }
  const cases = (patterns: readonly string[]): string => patterns.join(' | \\\n        ');
  return `# bash completion for ${program.name()}: source <(${program.name()} completion bash)
${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} path=${program.name()} words i word
  # The command typed so far; an option's value is skipped, never taken for a command.
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    case "$path $word" in
      ${cases(subcommands)}) path+=" $word" ;;
      ${cases(valueOptions)}) ((i++)) ;;
    esac
  done
  case "$path \${COMP_WORDS[COMP_CWORD - 1]}" in
${[...values].map(([completion, patterns]) => `    ${cases(patterns)})\n      ${completion}; return ;;`).join('\n')}
  esac
  case "$path" in
${words.join('\n')}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F ${fn} ${program.name()}
`;
}

/** `tributary completion bash`: prints the script to source. */
export function completionCommand(program: Command): Command {
  return new Command('completion')
    .summary('print a shell completion script (bash)')
    .description(
      `Prints a bash completion script for ${program.name()}: add \`source <(${program.name()} completion bash)\` to ~/.bashrc.`,
    )
    .addArgument(new Argument('<SHELL>', 'the shell').choices(['bash']))
    .action(() => {
      process.stdout.write(bashCompletion(program));
    });
}

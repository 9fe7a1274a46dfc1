/** Flags that never take a value, so `--json orders` leaves orders positional. */
const SWITCHES = new Set([
  'help',
  'json',
  'include-internal',
  'execute',
  'dry-run',
  'all-topics',
  'to-earliest',
  'to-latest',
]);

/** Minimal flag parsing: --name value, --name=value, --flag (true), repeated --set k=v. */
export interface ParsedArgs {
  readonly command: string | null;
  readonly flags: Map<string, string[]>;
  readonly positional: string[];
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      let name: string;
      let value: string;
      if (eq > 0) {
        name = arg.slice(2, eq);
        value = arg.slice(eq + 1);
      } else {
        name = arg.slice(2);
        const next = argv[i + 1];
        value = !SWITCHES.has(name) && next !== undefined && !next.startsWith('--') ? (i++, next) : 'true';
      }
      flags.set(name, [...(flags.get(name) ?? []), value]);
    } else if (arg === '-h') {
      flags.set('help', ['true']);
    } else {
      positional.push(arg);
    }
  }
  return { command: positional.shift() ?? null, flags, positional };
}

export class UsageError extends Error {}

export function single(args: ParsedArgs, name: string): string | undefined {
  const values = args.flags.get(name);
  if (values === undefined) return undefined;
  if (values.length > 1) throw new UsageError(`--${name} is given ${values.length} times`);
  return values[0];
}

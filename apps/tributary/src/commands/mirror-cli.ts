import type { ErrorBody, FlowDetail, FlowSummary } from '@tributary/console';
import { Option, Command } from 'commander';
import { UsageError } from '../cli/options';
import { printJson, printTable } from './cli-support';

/** The options of every flow command. */
interface FlowFlags {
  readonly console: string;
  readonly json?: boolean;
}

interface ThrottleFlags extends FlowFlags {
  readonly recordsPerSecond?: number | null;
  readonly bytesPerSecond?: number | null;
}

class ConsoleAnswer extends Error {}

async function call<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  // From the environment, not a flag: command lines show in ps and shell history.
  const token = process.env.TRIBUTARY_CONSOLE_TOKEN;
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token !== undefined && token !== '') headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(new URL(path, base), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    // fetch says only "fetch failed"; its cause says why (ECONNREFUSED, ENOTFOUND, ...).
    const cause = (err as Error).cause;
    throw new ConsoleAnswer(
      `cannot reach the console at ${base}: ${cause instanceof Error ? cause.message : (err as Error).message}`,
    );
  }
  const text = await res.text();
  const parsed = text === '' ? null : (JSON.parse(text) as unknown);
  if (!res.ok)
    throw new ConsoleAnswer(`${res.status} ${(parsed as ErrorBody | null)?.message ?? res.statusText}`);
  return parsed as T;
}

const rate =
  (flag: string) =>
  (v: string): number | null => {
    if (v === 'none') return null;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a number > 0 or none, got ${v}`);
    return n;
  };

function printFlows(flows: readonly FlowSummary[]): void {
  printTable(
    [
      'FLOW',
      'SOURCE',
      'TARGET',
      'STATE',
      'LAG-RECORDS',
      'LAG-SECONDS',
      'RECORDS/S',
      'LAST-CHECKPOINT',
      'ERRORS',
    ],
    flows.map((f) => [
      f.id,
      f.source,
      f.target,
      f.state,
      f.lagRecords,
      f.lagSeconds,
      f.throughput.recordsPerSecond,
      f.lastCheckpoint ? new Date(f.lastCheckpoint.at).toISOString() : null,
      f.errorCount,
    ]),
  );
}

/**
 * The operators' flow commands, through a running console's REST API. A new one is one more
 * entry here.
 */
export function flowCommands(): Command[] {
  return [
    flowCommand('list', 'flows with state, lag, throughput, last checkpoint').action((flags: FlowFlags) =>
      answered(async () => {
        const r = await call<{
          mirror: { configured: boolean; message: string | null };
          items: FlowSummary[];
        }>(flags.console, 'GET', '/api/flows');
        if (flags.json) return printJson(r);
        if (!r.mirror.configured) {
          console.log(`The console at ${flags.console} says: ${r.mirror.message}.`);
          return;
        }
        printFlows(r.items);
      }),
    ),
    flowCommand('describe', 'lag per partition (records, seconds) and recent errors')
      .argument('<FLOW>')
      .action((id: string, flags: FlowFlags) =>
        answered(async () => {
          const f = await call<FlowDetail>(flags.console, 'GET', `/api/flows/${encodeURIComponent(id)}`);
          if (flags.json) return printJson(f);
          printFlows([f]);
          console.log('');
          printTable(
            [
              'SOURCE-TOPIC',
              'TARGET-TOPIC',
              'PARTITION',
              'POSITION',
              'SOURCE-END',
              'LAG-RECORDS',
              'LAG-SECONDS',
            ],
            f.partitions.map((p) => [
              p.sourceTopic,
              p.targetTopic,
              p.partition,
              p.position,
              p.sourceLogEndOffset,
              p.lagRecords,
              p.lagSeconds,
            ]),
          );
          for (const e of f.errors) console.log(`${new Date(e.at).toISOString()}  ${e.message}`);
        }),
      ),
    ...(['pause', 'resume'] as const).map((action) =>
      flowCommand(action, `${action} a flow`)
        .argument('<FLOW>')
        .action((id: string, flags: FlowFlags) =>
          answered(async () => {
            const f = await call<FlowSummary>(
              flags.console,
              'POST',
              `/api/flows/${encodeURIComponent(id)}/${action}`,
            );
            if (flags.json) return printJson(f);
            console.log(`Flow ${f.id} is ${f.state}.`);
          }),
        ),
    ),
    flowCommand('throttle', "limit a flow's rate; a limit not given is removed")
      .argument('<FLOW>')
      .option('--records-per-second <N|none>', 'records per second', rate('--records-per-second'))
      .option('--bytes-per-second <N|none>', 'bytes per second', rate('--bytes-per-second'))
      .action((id: string, flags: ThrottleFlags) =>
        answered(async () => {
          const records = flags.recordsPerSecond;
          const bytes = flags.bytesPerSecond;
          if (records === undefined && bytes === undefined)
            throw new UsageError(
              'throttle needs --records-per-second or --bytes-per-second (a number or none)',
            );
          const f = await call<FlowSummary>(
            flags.console,
            'POST',
            `/api/flows/${encodeURIComponent(id)}/throttle`,
            { recordsPerSecond: records ?? null, bytesPerSecond: bytes ?? null },
          );
          if (flags.json) return printJson(f);
          console.log(
            `Flow ${f.id} throttled to ${f.throttle.recordsPerSecond ?? 'unlimited'} records/s and ${f.throttle.bytesPerSecond ?? 'unlimited'} bytes/s.`,
          );
        }),
      ),
  ];
}

/** A flow command with the console's address and --json. */
function flowCommand(name: string, summary: string): Command {
  return new Command(name)
    .summary(summary)
    .description(
      `${summary[0].toUpperCase()}${summary.slice(1)}, through a running console's REST API. A console with security wants a bearer token: set TRIBUTARY_CONSOLE_TOKEN (viewer to list and describe, operator to pause, resume and throttle).`,
    )
    .addOption(
      new Option('--console <URL>', 'the console').default('http://127.0.0.1:8080').argParser((url) => {
        if (!/^https?:\/\/[^/]+/.test(url))
          throw new UsageError(`--console must be an http(s) URL, got ${url}`);
        return url;
      }),
    )
    .option('--json', 'JSON for scripts instead of tables')
    .addHelpText('after', '\nExample:\n  npx tributary mirror list --console http://127.0.0.1:8080');
}

/** What the console answered with an error status, or that it could not be reached: exit code 1. */
async function answered(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof ConsoleAnswer) {
      console.error(`tributary: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}

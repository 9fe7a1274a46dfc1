import type { ErrorBody, FlowDetail, FlowSummary } from '@tributary/console';
import { single, UsageError, type ParsedArgs } from '../args';
import { positional, printJson, printTable } from './cli-support';

export const MIRROR_CLI_USAGE = `tributary mirror <list|describe|pause|resume|throttle> [options]

Mirror flows are run by the replicator and shown by a running console; these commands ask
that console's REST API.

  list                                      flows with state, lag, throughput, last checkpoint
  describe FLOW                             lag per partition (records, seconds) and recent errors
  pause FLOW
  resume FLOW
  throttle FLOW [--records-per-second N|none] [--bytes-per-second N|none]
                                            a limit not given is removed

  --console URL        the console (default http://127.0.0.1:8080)
                       a console with security wants a bearer token: set TRIBUTARY_CONSOLE_TOKEN
                       (viewer to list and describe, operator to pause, resume and throttle)
  --json               JSON for scripts instead of tables

Example:
  npx tributary mirror list --console http://127.0.0.1:8080`;

const KNOWN = new Set(['console', 'json', 'help', 'records-per-second', 'bytes-per-second']);

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

function rate(v: string | undefined, flag: string): number | null | undefined {
  if (v === undefined) return undefined;
  if (v === 'none') return null;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${flag} must be a number > 0 or none, got ${v}`);
  return n;
}

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

/** The operators' flow commands, through a running console's REST API. */
export async function runMirrorCli(args: ParsedArgs): Promise<void> {
  for (const name of args.flags.keys())
    if (!KNOWN.has(name)) throw new UsageError(`unknown option --${name}`);
  const base = single(args, 'console') ?? 'http://127.0.0.1:8080';
  if (!/^https?:\/\/[^/]+/.test(base)) throw new UsageError(`--console must be an http(s) URL, got ${base}`);
  const json = args.flags.has('json');
  const sub = args.positional[0];
  try {
    switch (sub) {
      case 'list': {
        const r = await call<{
          mirror: { configured: boolean; message: string | null };
          items: FlowSummary[];
        }>(base, 'GET', '/api/flows');
        if (json) return printJson(r);
        if (!r.mirror.configured) {
          console.log(`The console at ${base} says: ${r.mirror.message}.`);
          return;
        }
        return printFlows(r.items);
      }
      case 'describe': {
        const id = positional(args, 1, 'FLOW', MIRROR_CLI_USAGE);
        const f = await call<FlowDetail>(base, 'GET', `/api/flows/${encodeURIComponent(id)}`);
        if (json) return printJson(f);
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
        return;
      }
      case 'pause':
      case 'resume': {
        const id = positional(args, 1, 'FLOW', MIRROR_CLI_USAGE);
        const f = await call<FlowSummary>(base, 'POST', `/api/flows/${encodeURIComponent(id)}/${sub}`);
        if (json) return printJson(f);
        console.log(`Flow ${f.id} is ${f.state}.`);
        return;
      }
      case 'throttle': {
        const id = positional(args, 1, 'FLOW', MIRROR_CLI_USAGE);
        const records = rate(single(args, 'records-per-second'), 'records-per-second');
        const bytes = rate(single(args, 'bytes-per-second'), 'bytes-per-second');
        if (records === undefined && bytes === undefined)
          throw new UsageError(
            'throttle needs --records-per-second or --bytes-per-second (a number or none)',
          );
        const f = await call<FlowSummary>(base, 'POST', `/api/flows/${encodeURIComponent(id)}/throttle`, {
          recordsPerSecond: records ?? null,
          bytesPerSecond: bytes ?? null,
        });
        if (json) return printJson(f);
        console.log(
          `Flow ${f.id} throttled to ${f.throttle.recordsPerSecond ?? 'unlimited'} records/s and ${f.throttle.bytesPerSecond ?? 'unlimited'} bytes/s.`,
        );
        return;
      }
      default:
        throw new UsageError(
          sub === undefined ? MIRROR_CLI_USAGE : `unknown mirror command "${sub}"\n\n${MIRROR_CLI_USAGE}`,
        );
    }
  } catch (err) {
    if (err instanceof ConsoleAnswer) {
      console.error(`tributary: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}

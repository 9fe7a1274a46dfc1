import type { ErrorBody, FlowDetail, FlowSummary, MirrorWorkerView } from '@tributary/console';
import type { Checkpoint, GroupOffsetsView, PromotionReport } from '@tributary/mirror';
import { Option, Command } from 'commander';
import { UsageError } from '../cli/options';
import { printJson, printTable } from './cli-support';

/** The options of every flow command. */
interface FlowFlags {
  readonly console: string;
  readonly json?: boolean;
}

interface MoveFlags extends FlowFlags {
  readonly topics?: string[];
  readonly groups?: string[];
  readonly timeoutMs?: number;
  readonly recreateDiverged?: boolean;
}

interface ThrottleFlags extends FlowFlags {
  /** 0: none. */
  readonly recordsPerSecond?: number;
  readonly bytesPerSecond?: number;
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

/** A rate, or 0 for none (commander turns a parser's null into ""). */
const rate =
  (flag: string) =>
  (v: string): number => {
    if (v === 'none') return 0;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a number > 0 or none, got ${v}`);
    return n;
  };

/** A comma-separated list, repeatable: --topics a,b --topics c. */
const names =
  (flag: string) =>
  (v: string, previous: string[] = []): string[] => {
    const list = v
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0);
    if (list.length === 0) throw new UsageError(`${flag} needs at least one name`);
    return [...previous, ...list];
  };

const milliseconds = (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1000)
    throw new UsageError(`--timeout-ms must be a whole number >= 1000, got ${v}`);
  return n;
};

function printReport(r: PromotionReport): void {
  printTable(
    ['TOPIC', 'TARGET-TOPIC', 'PARTITION', 'TARGET-END', 'SOURCE-END', 'BEHIND'],
    r.topics.flatMap((t) =>
      t.partitions.map((p) => [t.topic, t.targetTopic, p.partition, p.targetEnd, p.sourceEnd, p.behind]),
    ),
  );
  for (const t of r.topics.filter((x) => x.sourceFenced))
    console.log(`${t.topic}: producers on the source are refused from now on.`);
  for (const g of r.groups)
    console.log(
      g.skipped === null
        ? `Group ${g.group}: ${g.offsets.map((o) => `${o.topic}-${o.partition}@${o.offset}`).join(', ')}`
        : `Group ${g.group} not moved: ${g.skipped}`,
    );
  console.log(`${r.action} of flow ${r.flow} done in ${r.durationMs} ms.`);
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
              'STATE',
              'POSITION',
              'SOURCE-END',
              'LAG-RECORDS',
              'LAG-SECONDS',
              'WORKER',
            ],
            f.partitions.map((p) => [
              p.sourceTopic,
              p.targetTopic,
              p.partition,
              p.direction === 'reverse' ? `${p.state} (reverse)` : p.state,
              p.position,
              p.sourceLogEndOffset,
              p.lagRecords,
              p.lagSeconds,
              p.worker,
            ]),
          );
          for (const t of f.topicStates)
            console.log(
              `${t.topic} -> ${t.targetTopic}: ${t.state} (${t.kind}) at ${new Date(t.at).toISOString()}`,
            );
          for (const p of f.partitions.filter((x) => x.error !== null))
            console.log(
              `${p.sourceTopic}-${p.partition} stuck at offset ${p.error?.offset}: ${p.error?.message}`,
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
    flowCommand('workers', 'the mirror workers: host, pid, uptime, the units each runs').action(
      (flags: FlowFlags) =>
        answered(async () => {
          const r = await call<{ items: MirrorWorkerView[] }>(flags.console, 'GET', '/api/mirror/workers');
          if (flags.json) return printJson(r);
          printTable(
            ['WORKER', 'HOST', 'PID', 'UPTIME-S', 'UNITS'],
            r.items.map((w) => [w.id, w.host, w.pid, w.uptimeSeconds, w.units.join(' ')]),
          );
        }),
    ),
    moveCommand(
      'promote',
      'planned: fence the source topics, wait until the target caught up, move the groups, make the target writable',
    ).option('--timeout-ms <N>', 'how long to wait for the target to catch up (default 60000)', milliseconds),
    moveCommand(
      'failover',
      'unplanned: make the target topics writable at once, apply the groups’ last checkpoints',
    ),
    moveCommand('reverse', 'copy what is written to promoted topics back into the source topics').option(
      '--recreate-diverged',
      'recreate a source topic that holds records past the promotion point (they never reached the target)',
    ),
    moveCommand(
      'failback',
      'planned, for reversed topics: fence the target, wait until the source caught up, move the groups back',
    ).option('--timeout-ms <N>', 'how long to wait for the source to catch up (default 60000)', milliseconds),
    flowCommand('checkpoints', 'the newest checkpoint of each group and partition in the target')
      .argument('<FLOW>')
      .option('--group <GROUP>', 'only this group')
      .action((id: string, flags: FlowFlags & { group?: string }) =>
        answered(async () => {
          const query = flags.group === undefined ? '' : `?group=${encodeURIComponent(flags.group)}`;
          const r = await call<{ items: Checkpoint[] }>(
            flags.console,
            'GET',
            `/api/flows/${encodeURIComponent(id)}/checkpoints${query}`,
          );
          if (flags.json) return printJson(r);
          printTable(
            ['GROUP', 'TOPIC', 'PARTITION', 'UPSTREAM-OFFSET', 'OFFSET'],
            r.items.map((c) => [c.group, c.topic, c.partition, c.upstreamOffset, c.offset]),
          );
        }),
      ),
    flowCommand('offsets', "a group's offsets for a flow: on the source, its checkpoint, on the target")
      .requiredOption('--flow <FLOW>', 'the flow')
      .requiredOption('--group <GROUP>', 'the consumer group')
      .action((flags: FlowFlags & { flow: string; group: string }) =>
        answered(async () => {
          const r = await call<GroupOffsetsView>(
            flags.console,
            'GET',
            `/api/flows/${encodeURIComponent(flags.flow)}/groups/${encodeURIComponent(flags.group)}/offsets`,
          );
          if (flags.json) return printJson(r);
          printTable(
            [
              'TOPIC',
              'TARGET-TOPIC',
              'PARTITION',
              'SOURCE-COMMITTED',
              'CHECKPOINT-UPSTREAM',
              'CHECKPOINT',
              'TARGET-COMMITTED',
            ],
            r.partitions.map((p) => [
              p.topic,
              p.targetTopic,
              p.partition,
              p.sourceCommitted,
              p.checkpoint?.upstreamOffset ?? null,
              p.checkpoint?.offset ?? null,
              p.targetCommitted,
            ]),
          );
        }),
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
            { recordsPerSecond: records || null, bytesPerSecond: bytes || null },
          );
          if (flags.json) return printJson(f);
          console.log(
            `Flow ${f.id} throttled to ${f.throttle.recordsPerSecond ?? 'unlimited'} records/s and ${f.throttle.bytesPerSecond ?? 'unlimited'} bytes/s.`,
          );
        }),
      ),
  ];
}

/** promote, failover, reverse, failback: a flow, its topics and groups, a report. */
function moveCommand(action: 'promote' | 'failover' | 'reverse' | 'failback', summary: string): Command {
  const command = flowCommand(action, summary)
    .argument('<FLOW>')
    .option(
      '--topics <TOPIC,...>',
      'source topics (default: every topic the flow mirrors)',
      names('--topics'),
    );
  if (action !== 'reverse')
    command.option(
      '--groups <GROUP,...>',
      'consumer groups whose offsets move along (default: every group the flow checkpoints)',
      names('--groups'),
    );
  return command.action((id: string, flags: MoveFlags) =>
    answered(async () => {
      const body = {
        ...(flags.topics !== undefined ? { topics: flags.topics } : {}),
        ...(flags.groups !== undefined ? { groups: flags.groups } : {}),
        ...(flags.timeoutMs !== undefined ? { timeoutMs: flags.timeoutMs } : {}),
        ...(flags.recreateDiverged === true ? { recreateDiverged: true } : {}),
      };
      const r = await call<PromotionReport>(
        flags.console,
        'POST',
        `/api/flows/${encodeURIComponent(id)}/${action}`,
        body,
      );
      if (flags.json) return printJson(r);
      printReport(r);
    }),
  );
}

/** A flow command with the console's address and --json. */
function flowCommand(name: string, summary: string): Command {
  return new Command(name)
    .summary(summary)
    .description(
      `${summary[0].toUpperCase()}${summary.slice(1)}, through a running console's REST API. A console with security wants a bearer token: set TRIBUTARY_CONSOLE_TOKEN (viewer to list and describe, operator to pause, resume, throttle, promote and fail over).`,
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

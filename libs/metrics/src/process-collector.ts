import type { Collector } from './registry';

const startTimeSeconds = Math.round(Date.now() / 1000 - process.uptime());

/** The process' own figures, under the names Prometheus' client libraries use. */
export const processCollector: Collector = () => {
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  return [
    {
      name: 'process_cpu_seconds_total',
      help: 'User and system CPU time spent, in seconds.',
      type: 'counter',
      samples: [{ labels: {}, value: (cpu.user + cpu.system) / 1e6 }],
    },
    {
      name: 'process_resident_memory_bytes',
      help: 'Resident memory size in bytes.',
      type: 'gauge',
      samples: [{ labels: {}, value: memory.rss }],
    },
    {
      name: 'process_start_time_seconds',
      help: 'Start time of the process since the Unix epoch, in seconds.',
      type: 'gauge',
      samples: [{ labels: {}, value: startTimeSeconds }],
    },
    {
      name: 'nodejs_heap_used_bytes',
      help: 'V8 heap in use, in bytes.',
      type: 'gauge',
      samples: [{ labels: {}, value: memory.heapUsed }],
    },
  ];
};

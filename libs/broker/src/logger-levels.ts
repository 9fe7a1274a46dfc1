/** Log4j's level names, which Kafka's BROKER_LOGGER resources use (LogLevelConfig.VALID_LOG_LEVELS). */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The logger every other one follows unless given its own level. */
export const ROOT_LOGGER = 'root';

/**
 * The process' loggers and their levels, changed at runtime through BROKER_LOGGER resources
 * (KIP-412). Loggers are the components log lines name (`broker-1`, `mirror`, ...); the
 * application that hosts the broker provides this, since it owns the logging.
 */
export interface LoggerLevels {
  /** Every logger, the root first, with its effective level. */
  loggers(): ReadonlyMap<string, LogLevel>;
  /** A logger's own level; null: it follows the root logger's again. */
  setLevel(name: string, level: LogLevel | null): void;
}

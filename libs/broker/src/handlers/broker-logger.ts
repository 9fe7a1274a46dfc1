import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import {
  AlterConfigOp,
  ConfigSource,
  ConfigType,
  type ConfigAlteration,
  type DescribedConfig,
} from '@tributary/storage';
import type { BrokerContext } from '../broker-context';
import { LOG_LEVELS, ROOT_LOGGER, type LoggerLevels, type LogLevel } from '../logger-levels';

/**
 * BROKER_LOGGER resources (KIP-412, Kafka's RuntimeLoggerManager): the process' loggers and
 * their levels, read by DescribeConfigs and changed by IncrementalAlterConfigs (SET a level,
 * DELETE to follow the root logger again). Levels are not stored: a restart goes back to
 * the configured ones, as in Kafka.
 */

const invalidRequest = (message: string) => new KafkaProtocolError(ErrorCode.INVALID_REQUEST, message);

function levelsOf(ctx: BrokerContext): LoggerLevels {
  if (ctx.loggerLevels === undefined)
    throw invalidRequest('this broker runs without runtime control of its loggers');
  return ctx.loggerLevels;
}

/** DescribeConfigs of a BROKER_LOGGER resource: the loggers asked for (null or none: all) and their levels. */
export function describeLoggers(
  ctx: BrokerContext,
  resourceName: string,
  names: readonly string[] | null,
): DescribedConfig[] {
  if (resourceName === '') throw invalidRequest('Broker id must not be empty');
  if (!/^-?\d+$/.test(resourceName))
    throw invalidRequest(`Broker id must be an integer, but it is: ${resourceName}`);
  if (Number(resourceName) !== ctx.config.nodeId)
    throw invalidRequest(`Unexpected broker id, expected ${ctx.config.nodeId} but received ${resourceName}`);
  const wanted = names === null || names.length === 0 ? null : new Set(names);
  return [...levelsOf(ctx).loggers()]
    .filter(([name]) => wanted === null || wanted.has(name))
    .map(([name, level]) => ({
      name,
      value: level,
      readOnly: false,
      isDefault: false,
      configSource: ConfigSource.DYNAMIC_BROKER_LOGGER_CONFIG,
      isSensitive: false,
      synonyms: [],
      configType: ConfigType.UNKNOWN,
      documentation: null,
    }));
}

/** IncrementalAlterConfigs of a BROKER_LOGGER resource: every change is checked before any is made. */
export function alterLoggers(
  ctx: BrokerContext,
  resourceName: string,
  alterations: readonly ConfigAlteration[],
  validateOnly: boolean,
): void {
  if (!/^-?\d+$/.test(resourceName))
    throw invalidRequest(`Node id must be an integer, but it is: ${resourceName}`);
  if (Number(resourceName) !== ctx.config.nodeId)
    throw invalidRequest(`Unexpected node id. Expected ${ctx.config.nodeId}, but received ${resourceName}`);
  const levels = levelsOf(ctx);
  const known = levels.loggers();
  const exists = (name: string) => {
    if (!known.has(name))
      throw new KafkaProtocolError(ErrorCode.INVALID_CONFIG, `Logger ${name} does not exist!`);
  };
  for (const a of alterations) {
    switch (a.op ?? AlterConfigOp.SET) {
      case AlterConfigOp.SET:
        exists(a.name);
        if (!LOG_LEVELS.includes(a.value as LogLevel))
          throw new KafkaProtocolError(
            ErrorCode.INVALID_CONFIG,
            `Cannot set the log level of ${a.name} to ${a.value} as it is not a supported log level. Valid log levels are ${[...LOG_LEVELS].sort().join(', ')}`,
          );
        break;
      case AlterConfigOp.DELETE:
        exists(a.name);
        if (a.name === ROOT_LOGGER)
          throw invalidRequest(`Removing the log level of the ${ROOT_LOGGER} logger is not allowed`);
        break;
      case AlterConfigOp.APPEND:
        throw invalidRequest('APPEND operation is not allowed for the BROKER_LOGGER resource');
      case AlterConfigOp.SUBTRACT:
        throw invalidRequest('SUBTRACT operation is not allowed for the BROKER_LOGGER resource');
      default:
        throw invalidRequest(
          `Unknown operation type ${a.op as number} is not allowed for the BROKER_LOGGER resource`,
        );
    }
  }
  if (validateOnly) return;
  for (const a of alterations) {
    const level = a.op === AlterConfigOp.DELETE ? null : (a.value as LogLevel);
    levels.setLevel(a.name, level);
    ctx.logger.warn(
      level === null ? `Unset the log level of ${a.name}` : `Updated the log level of ${a.name} to ${level}`,
    );
  }
}

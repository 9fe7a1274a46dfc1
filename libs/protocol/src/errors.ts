import { ErrorCode, errorName, isRetriable } from './error-codes';

/** An error that maps to a Kafka error code, keeping its cause. */
export class KafkaProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${errorName(code)}: ${message}`, options);
    this.name = 'KafkaProtocolError';
  }

  get retriable(): boolean {
    return isRetriable(this.code);
  }

  static invalidRequest(message: string): KafkaProtocolError {
    return new KafkaProtocolError(ErrorCode.INVALID_REQUEST, message);
  }

  static corrupt(message: string): KafkaProtocolError {
    return new KafkaProtocolError(ErrorCode.CORRUPT_MESSAGE, message);
  }
}

/** The Kafka error code for anything thrown: typed errors keep theirs, the rest are unknown. */
export function errorCodeOf(err: unknown): number {
  return err instanceof KafkaProtocolError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
}

import { ConnectionError, ErrorCode, errorName, KafkaProtocolError } from '@tributary/client';
import { OperationError, type OperationErrorKind } from '../ops/operation-error';

/** The one error body of the REST API, for every status. */
export interface ErrorBody {
  readonly statusCode: number;
  /** The HTTP reason phrase. */
  readonly error: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

/** An error the console answers with a status of its choosing (CLI commands print its message). */
export class ApiError extends Error {
  /** Response headers that go with the error (WWW-Authenticate on a 401). */
  readonly headers?: Readonly<Record<string, string>>;

  constructor(
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown; headers?: Readonly<Record<string, string>> },
  ) {
    super(message, options);
    this.name = 'ApiError';
    if (options?.headers !== undefined) this.headers = options.headers;
  }
}

const NOT_FOUND = new Set<number>([
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.GROUP_ID_NOT_FOUND,
  ErrorCode.RESOURCE_NOT_FOUND,
]);

const CONFLICT = new Set<number>([
  ErrorCode.TOPIC_ALREADY_EXISTS,
  ErrorCode.NON_EMPTY_GROUP,
  ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC,
  ErrorCode.REASSIGNMENT_IN_PROGRESS,
  ErrorCode.CONCURRENT_TRANSACTIONS,
]);

const BAD_REQUEST = new Set<number>([
  ErrorCode.INVALID_TOPIC_EXCEPTION,
  ErrorCode.INVALID_PARTITIONS,
  ErrorCode.INVALID_REPLICATION_FACTOR,
  ErrorCode.INVALID_REPLICA_ASSIGNMENT,
  ErrorCode.INVALID_CONFIG,
  ErrorCode.INVALID_REQUEST,
  ErrorCode.POLICY_VIOLATION,
  ErrorCode.INVALID_GROUP_ID,
  ErrorCode.INVALID_TIMESTAMP,
  ErrorCode.INVALID_COMMIT_OFFSET_SIZE,
  ErrorCode.OFFSET_METADATA_TOO_LARGE,
  ErrorCode.OFFSET_OUT_OF_RANGE,
  ErrorCode.RECORD_LIST_TOO_LARGE,
  ErrorCode.MESSAGE_TOO_LARGE,
  ErrorCode.INVALID_RECORD,
  ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
]);

const FORBIDDEN = new Set<number>([
  ErrorCode.TOPIC_AUTHORIZATION_FAILED,
  ErrorCode.GROUP_AUTHORIZATION_FAILED,
  ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
  ErrorCode.TOPIC_DELETION_DISABLED,
  ErrorCode.SECURITY_DISABLED,
]);

/** The cluster refused the console's own credentials: it is unavailable to the console, not the caller unauthorized. */
const CONSOLE_CREDENTIALS = new Set<number>([
  ErrorCode.SASL_AUTHENTICATION_FAILED,
  ErrorCode.UNSUPPORTED_SASL_MECHANISM,
  ErrorCode.ILLEGAL_SASL_STATE,
]);

/**
 * The HTTP status for a Kafka error: missing things 404, clashes with the cluster's state 409,
 * bad input the broker refused 400, refusals 403, a cluster that cannot answer now
 * (retriable errors, network failures, the console's cluster credentials refused) 503;
 * anything else 500.
 */
export function httpStatusOf(err: KafkaProtocolError): number {
  if (err instanceof ConnectionError) return 503;
  if (NOT_FOUND.has(err.code)) return 404;
  if (CONFLICT.has(err.code)) return 409;
  if (BAD_REQUEST.has(err.code)) return 400;
  if (FORBIDDEN.has(err.code)) return 403;
  if (CONSOLE_CREDENTIALS.has(err.code)) return 503;
  if (err.code === ErrorCode.UNSUPPORTED_VERSION) return 501;
  if (err.retriable) return 503;
  return 500;
}

const STATUS_OF: Record<OperationErrorKind, number> = { invalid: 400, 'not-found': 404, conflict: 409 };

/** The error body for anything thrown while answering a request. */
export function errorBodyOf(err: unknown): ErrorBody {
  if (err instanceof ApiError) return body(err.status, err.message, err.details);
  if (err instanceof OperationError) return body(STATUS_OF[err.kind], err.message, err.details);
  if (err instanceof KafkaProtocolError) {
    const name = errorName(err.code);
    // The client and the broker both prefix the error's name: say it once.
    const message = name + err.message.slice(name.length).split(`: ${name}: `).join(': ');
    return body(httpStatusOf(err), message, { kafkaError: name, kafkaErrorCode: err.code });
  }
  return body(500, 'internal error: the console logged the details');
}

export function body(statusCode: number, message: string, details?: Record<string, unknown>): ErrorBody {
  return {
    statusCode,
    error: REASONS[statusCode] ?? (statusCode >= 500 ? 'Server Error' : 'Error'),
    message,
    ...(details !== undefined ? { details } : {}),
  };
}

import {
  Catch,
  HttpException,
  Inject,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { ApiError, body, errorBodyOf, type ErrorBody } from './api-error';

interface ResponseLike {
  headersSent: boolean;
  setHeader(name: string, value: string): void;
  status(code: number): ResponseLike;
  json(body: unknown): void;
}

/** What Nest's router throws when no route matches: "Cannot GET /api/nope". */
const UNROUTED = /^Cannot (GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) /;

/**
 * Every error leaves in one shape, {statusCode, error, message, details?}: validation failures,
 * unknown routes and malformed JSON (Nest's own HttpExceptions), Kafka errors mapped to HTTP
 * statuses, and unexpected failures (500, logged with their stack, not shown to the caller).
 * An unknown route under the API is 404 only to a caller with a token, once security is on.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('console');

  constructor(@Inject(BearerAuthGuard) private readonly gate: BearerAuthGuard) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<ResponseLike>();
    if (err instanceof HttpException && err.getStatus() === 404 && UNROUTED.test(err.message)) {
      try {
        this.gate.authorizeUnrouted(host.switchToHttp().getRequest());
      } catch (denied) {
        err = denied;
      }
    }
    let out: ErrorBody;
    const parser = fromBodyParser(err);
    if (parser !== null) out = parser;
    else if (err instanceof HttpException) out = fromHttpException(err);
    else {
      out = errorBodyOf(err);
      if (out.statusCode === 500 && !(err instanceof ApiError))
        this.logger.error(`request failed: ${(err as Error)?.stack ?? String(err)}`);
    }
    if (res.headersSent) return;
    if (err instanceof ApiError && err.headers !== undefined)
      for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
    res.status(out.statusCode).json(out);
  }
}

/** Express' body parser fails with plain errors that carry a 4xx status and expose=true. */
function fromBodyParser(err: unknown): ErrorBody | null {
  const e = err as { status?: unknown; expose?: unknown; type?: unknown; limit?: unknown; message?: unknown };
  if (typeof e !== 'object' || e === null || e.expose !== true || typeof e.status !== 'number') return null;
  if (e.status < 400 || e.status > 499) return null;
  if (e.type === 'entity.too.large')
    return body(413, `the request body is larger than the ${String(e.limit)} bytes the console accepts`);
  return body(e.status, `the request body cannot be read: ${String(e.message)}`);
}

function fromHttpException(err: HttpException): ErrorBody {
  const status = err.getStatus();
  const response = err.getResponse();
  let message = err.message;
  if (typeof response === 'object' && response !== null && 'message' in response) {
    const m = response.message;
    message = Array.isArray(m) ? m.join('; ') : String(m);
  }
  // Express' JSON parser says "Unexpected token } in JSON at position 12": say which part it was.
  if (status === 400 && /JSON/.test(message) && !message.startsWith('the request body'))
    message = `the request body is not valid JSON: ${message}`;
  if (status === 404 && UNROUTED.test(message))
    message = `${message.replace(/^Cannot /, 'no route for ')}; see /docs for the API`;
  return body(status, message);
}

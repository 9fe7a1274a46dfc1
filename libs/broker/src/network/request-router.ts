import {
  ApiVersions,
  decodeRequestBody,
  decodeRequestHeader,
  encodeResponse,
  ErrorCode,
  KafkaProtocolError,
  parseVersions,
  Reader,
  type RequestHeader,
} from '@tributary/protocol';
import type { ApiHandler } from '../handlers/handler';
import type { Connection, FrameSink } from './connection';

export interface RouterLogger {
  warn(message: string): void;
  error(message: string): void;
  /** Each answered request, as Kafka's request logger at DEBUG; absent when debug is off. */
  readonly debug?: (message: string) => void;
}

export interface RequestObserver {
  /** Called once per answered request with its decoded body and response (null for acks=0 produce). */
  onRequest(apiKey: number, apiVersion: number, latencyMs: number, request: unknown, response: unknown): void;
}

/**
 * Decodes each request's header, finds its handler and encodes the answer. Requests that
 * cannot be parsed close the connection, as Kafka does; an ApiVersions request of a
 * version we do not know is answered in v0 with UNSUPPORTED_VERSION so the client retries lower.
 */
export class RequestRouter implements FrameSink {
  private readonly handlers = new Map<number, ApiHandler>();

  constructor(
    private readonly logger: RouterLogger,
    private readonly observer?: RequestObserver,
  ) {}

  register(handler: ApiHandler): this {
    this.handlers.set(handler.api.apiKey, handler);
    return this;
  }

  /** What ApiVersions advertises: exactly the handlers registered. */
  advertisedApis(): { apiKey: number; minVersion: number; maxVersion: number }[] {
    return [...this.handlers.values()]
      .map((h) => {
        const range = parseVersions(h.api.versions);
        return { apiKey: h.api.apiKey, minVersion: range.min, maxVersion: range.max };
      })
      .sort((a, b) => a.apiKey - b.apiKey);
  }

  onFrame(frame: Buffer, connection: Connection): Buffer[] | null | Promise<Buffer[] | null> {
    const started = performance.now();
    const r = new Reader(frame);
    const header = decodeRequestHeader(r);
    const handler = this.handlers.get(header.apiKey);
    if (handler === undefined) {
      throw KafkaProtocolError.invalidRequest(`unknown API key ${header.apiKey}`);
    }
    const api = handler.api;
    const range = parseVersions(api.versions);
    if (header.apiVersion < range.min || header.apiVersion > range.max) {
      if (api.apiKey === ApiVersions.apiKey) return this.unsupportedApiVersions(header);
      throw new KafkaProtocolError(
        ErrorCode.UNSUPPORTED_VERSION,
        `${api.name} v${header.apiVersion} is not supported (supported: ${api.versions})`,
      );
    }
    const request = decodeRequestBody(api, header.apiVersion, r);
    const result = handler.handle(request as never, { header, apiVersion: header.apiVersion, connection });
    const finish = (response: object | null): Buffer[] | null => {
      const ms = performance.now() - started;
      this.observer?.onRequest(api.apiKey, header.apiVersion, ms, request, response);
      // Hot path: with debug off, debug is absent and the optional call skips building the line.
      this.logger.debug?.(
        `${api.name} v${header.apiVersion} correlation ${header.correlationId} from ${header.clientId ?? '-'} at ${connection.remoteAddress}: ${ms.toFixed(2)} ms`,
      );
      return response === null
        ? null
        : encodeResponse(api, header.apiVersion, header.correlationId, response);
    };
    return result instanceof Promise ? result.then(finish) : finish(result);
  }

  private unsupportedApiVersions(header: RequestHeader): Buffer[] {
    return encodeResponse(ApiVersions, 0, header.correlationId, {
      errorCode: ErrorCode.UNSUPPORTED_VERSION,
      apiKeys: this.advertisedApis(),
    });
  }

  onProtocolViolation(reason: string, connection: Connection): void {
    this.logger.warn(`closing connection from ${connection.remoteAddress}: ${reason}`);
  }
}

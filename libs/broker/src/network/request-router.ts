import {
  ApiVersions,
  Fetch,
  decodeRequestBody,
  decodeRequestHeader,
  encodeResponse,
  ErrorCode,
  KafkaProtocolError,
  parseVersions,
  Reader,
  type RequestHeader,
} from '@tributary/protocol';
import { giveReadBuffer } from '@tributary/storage';
import type { ApiHandler } from '../handlers/handler';
import type { ClientQuotaManager } from '../quota/client-quota-manager';
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
 *
 * With a request_percentage quota anywhere, the time each request takes on the event loop
 * (decoding and the handler's synchronous work: what Kafka's request handler threads count)
 * is recorded against its client's quota, 100 being the whole event loop; a client over it
 * gets the throttle time in its response and its connection muted for that long.
 */
export class RequestRouter implements FrameSink {
  private readonly handlers = new Map<number, ApiHandler>();

  constructor(
    private readonly logger: RouterLogger,
    private readonly observer?: RequestObserver,
    private readonly requestQuota?: ClientQuotaManager,
  ) {}

  register(handler: ApiHandler): this {
    if (this.handlers.has(handler.api.apiKey))
      throw new Error(`${handler.api.name} (key ${handler.api.apiKey}) has two handlers`);
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
    const result = handler.handle(request as never, {
      header,
      apiVersion: header.apiVersion,
      connection,
      size: frame.length,
    });
    const quota = this.requestQuota;
    // Replicas' fetches are exempt, as Kafka exempts cluster actions.
    const handlerMs =
      quota?.enabled === true &&
      !(api.apiKey === Fetch.apiKey && (request as { replicaId: number }).replicaId >= 0)
        ? performance.now() - started
        : -1;
    const finish = (response: object | null): Buffer[] | null => {
      if (handlerMs >= 0 && response !== null)
        throttleRequest(quota!, connection, header, response, handlerMs);
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

  /** A response was written: the fetch buffers it carried serve the next reads. */
  written(chunks: readonly Buffer[]): void {
    for (const chunk of chunks) giveReadBuffer(chunk);
  }

  releasesFrame(frame: Buffer): boolean {
    return frame.length >= 2 && this.handlers.get(frame.readInt16BE(0))?.releasesRequest === true;
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

/** Records a request's event-loop time (percent-seconds, Kafka's unit) and throttles a client over its quota. */
function throttleRequest(
  quota: ClientQuotaManager,
  connection: Connection,
  header: RequestHeader,
  response: object,
  handlerMs: number,
): void {
  const throttleMs = quota.recordAndGetThrottleTimeMs(
    connection.session,
    header.clientId ?? '',
    handlerMs / 10,
    Date.now(),
  );
  if (throttleMs <= 0) return;
  const r = response as { throttleTimeMs?: number };
  r.throttleTimeMs = Math.max(r.throttleTimeMs ?? 0, throttleMs);
  connection.throttle(throttleMs);
}

import type { ApiDefinition, RequestHeader, RequestOf, ResponseInput } from '@tributary/protocol';
import type { Connection } from '../network/connection';

export interface RequestContext {
  readonly header: RequestHeader;
  readonly apiVersion: number;
  readonly connection: Connection;
  /** The request's size in bytes (header and body), what producer_byte_rate counts. */
  readonly size: number;
}

/** One Kafka API served by the broker. Returning null sends no response (Produce with acks=0). */
export interface ApiHandler<A extends ApiDefinition = ApiDefinition> {
  readonly api: A;
  /**
   * handle() keeps no reference into the request's bytes (its records, say) once it has
   * returned, whatever it returned: the connection may then reuse the buffer the request was
   * read into for the next requests (see Connection).
   */
  readonly releasesRequest?: boolean;
  handle(
    request: RequestOf<A>,
    ctx: RequestContext,
  ): ResponseInput<A> | null | Promise<ResponseInput<A> | null>;
}

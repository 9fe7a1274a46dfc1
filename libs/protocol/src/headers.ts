import { codecFor, isFlexible } from './codec';
import { Reader } from './primitives/reader';
import { Writer } from './primitives/writer';
import type { ApiDefinition } from './schema';

export interface RequestHeader {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
}

const API_VERSIONS_KEY = 18;

/** Request header v2 (with tagged fields) for flexible versions, v1 otherwise. */
export function requestHeaderVersion(api: ApiDefinition, version: number): 1 | 2 {
  return isFlexible(api, version) ? 2 : 1;
}

/** Response header v1 for flexible versions, except ApiVersions, whose response header is always v0. */
export function responseHeaderVersion(api: ApiDefinition, version: number): 0 | 1 {
  return api.apiKey !== API_VERSIONS_KEY && isFlexible(api, version) ? 1 : 0;
}

/**
 * Reads the fixed part of a request header (key, version, correlation id, client id; the
 * client id is a nullable int16 string even in header v2). The caller skips the v2 tagged
 * fields once it knows the API (see skipTaggedFields).
 */
export function decodeRequestHeader(r: Reader): RequestHeader {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const clientId = r.nullableString();
  return { apiKey, apiVersion, correlationId, clientId };
}

export function skipTaggedFields(r: Reader): void {
  const count = r.uvarint();
  for (let i = 0; i < count; i++) {
    r.uvarint();
    r.skip(r.uvarint());
  }
}

/** Encodes a size-delimited request frame. */
export function encodeRequest(
  api: ApiDefinition,
  version: number,
  correlationId: number,
  clientId: string | null,
  body: object,
): Buffer[] {
  const codec = codecFor(api, version);
  const w = new Writer(256);
  w.int32(0).int16(api.apiKey).int16(version).int32(correlationId).nullableString(clientId);
  if (requestHeaderVersion(api, version) === 2) w.uvarint(0);
  codec.request.encode(w, body as Record<string, unknown>);
  return w.finishFrame();
}

/** Encodes a size-delimited response frame. */
export function encodeResponse(
  api: ApiDefinition,
  version: number,
  correlationId: number,
  body: object,
): Buffer[] {
  const codec = codecFor(api, version);
  const w = new Writer(256);
  w.int32(0).int32(correlationId);
  if (responseHeaderVersion(api, version) === 1) w.uvarint(0);
  codec.response.encode(w, body as Record<string, unknown>);
  return w.finishFrame();
}

/** Decodes a request body that follows a header already read by decodeRequestHeader. */
export function decodeRequestBody(api: ApiDefinition, version: number, r: Reader): Record<string, unknown> {
  const codec = codecFor(api, version);
  if (requestHeaderVersion(api, version) === 2) skipTaggedFields(r);
  return codec.request.decode(r);
}

/** Decodes a response frame (without its size prefix): correlation id and body. */
export function decodeResponse(
  api: ApiDefinition,
  version: number,
  frame: Buffer,
): { correlationId: number; body: Record<string, unknown> } {
  const codec = codecFor(api, version);
  const r = new Reader(frame);
  const correlationId = r.int32();
  if (responseHeaderVersion(api, version) === 1) skipTaggedFields(r);
  return { correlationId, body: codec.response.decode(r) };
}

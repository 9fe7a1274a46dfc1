import crypto from 'node:crypto';
import type { ConsoleRole } from './roles';

/** One bearer token the console accepts: its name (for logs), its role and its SHA-256. */
export interface ConsoleToken {
  /** Shown in logs and error messages in place of the token. */
  readonly name: string;
  readonly role: ConsoleRole;
  /** SHA-256 of the token: the token itself is kept nowhere. */
  readonly sha256: Buffer;
}

/** The console's security settings: with them, /api and /metrics need a bearer token. */
export interface ConsoleSecurity {
  readonly tokens: readonly ConsoleToken[];
}

/** The SHA-256 of a token, hex: what a config file's token.sha256 holds. */
export function tokenSha256(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The token a request presents, or null: `Authorization: Bearer <token>` (the scheme in any
 * case, RFC 7235), the token in RFC 6750's token68 characters.
 */
export function bearerTokenOf(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return m === null ? null : m[1];
}

/**
 * The configured token a presented one matches, or null. Compares SHA-256 digests with
 * timingSafeEqual, against every configured token (no early exit), so the time taken says
 * nothing about how much of a token was right.
 */
export function findToken(security: ConsoleSecurity, presented: string): ConsoleToken | null {
  const digest = crypto.createHash('sha256').update(presented, 'utf8').digest();
  let found: ConsoleToken | null = null;
  for (const t of security.tokens) if (crypto.timingSafeEqual(digest, t.sha256) && found === null) found = t;
  return found;
}

import { Inject, Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiError } from '../http/api-error';
import { CONSOLE_SECURITY } from '../http/common';
import { ENDPOINT_SPEC, requiredRole, type EndpointSpec } from '../http/endpoint';
import { bearerTokenOf, findToken, type ConsoleSecurity } from './bearer-tokens';
import { roleAllows, type RequiredRole } from './roles';

interface RequestLike {
  readonly method: string;
  /** The path without the query string. */
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The client's address (Express). */
  readonly ip?: string;
}

const REALM = 'Bearer realm="tributary-console"';

/** Unknown tokens from one address within the window, past which that address is answered 429 (token guessing). */
const MAX_UNKNOWN_TOKENS = 10;
const GUESS_WINDOW_MS = 60_000;
/** Addresses tracked at most; past it the oldest records are dropped. */
const MAX_TRACKED = 10_000;

/** Paths that hold data: a route there without an endpoint spec still needs the strongest role. */
const PROTECTED = /^\/(api|metrics)(\/|$)/;

/**
 * The console's one gate, global (APP_GUARD): once security is configured, every endpoint
 * asks for the role its spec names (requiredRole) and the request must carry a bearer token
 * of that role or a stronger one. No token or an unknown one is 401 with WWW-Authenticate; a
 * token whose role is too weak is 403 naming the role needed; an address that sent too many
 * unknown tokens within a minute is answered 429 until the minute is over. The docs, the
 * OpenAPI document and the dashboard's files hold no data and stay open. Logs name a token,
 * never show it.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  private readonly logger = new Logger('console-auth');
  private readonly guesses = new Map<string, { count: number; since: number }>();

  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(CONSOLE_SECURITY) private readonly security: ConsoleSecurity | null,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (this.security === null || ctx.getType() !== 'http') return true;
    const req = ctx.switchToHttp().getRequest<RequestLike>();
    const spec = this.reflector.get<EndpointSpec | undefined>(ENDPOINT_SPEC, ctx.getHandler());
    return this.authorize(req, spec ? requiredRole(spec) : PROTECTED.test(req.path) ? 'admin' : 'public');
  }

  /**
   * For a request no route matched (guards never see those): under /api and /metrics it must
   * still carry a known token, so that a caller without one cannot map the API by its 404s.
   */
  authorizeUnrouted(req: RequestLike): void {
    if (this.security !== null && PROTECTED.test(req.path)) this.authorize(req, 'viewer');
  }

  /** Throws 401, 403 or 429 unless the request's token has the role `needs` or a stronger one. */
  private authorize(req: RequestLike, needs: RequiredRole): true {
    if (needs === 'public' || this.security === null) return true;
    const what = `${req.method} ${req.path}`;
    const address = req.ip ?? 'unknown address';
    const from = `(from ${address})`;
    // While an address is guessing, nothing it sends is checked, right tokens included.
    const guessing = this.guesses.get(address);
    const now = Date.now();
    if (guessing !== undefined && now - guessing.since >= GUESS_WINDOW_MS) this.guesses.delete(address);
    else if (guessing !== undefined && guessing.count >= MAX_UNKNOWN_TOKENS) {
      const seconds = Math.ceil((guessing.since + GUESS_WINDOW_MS - now) / 1000);
      throw new ApiError(
        429,
        `too many unknown bearer tokens from this address; try again in ${seconds} s`,
        { retryAfterSeconds: seconds },
        { headers: { 'Retry-After': String(seconds) } },
      );
    }
    const presented = bearerTokenOf(req.headers.authorization);
    if (presented === null) {
      this.logger.warn(`refused ${what}: no bearer token ${from}`);
      throw new ApiError(
        401,
        'this console needs a bearer token: send Authorization: Bearer <token>',
        { requiredRole: needs },
        { headers: { 'WWW-Authenticate': REALM } },
      );
    }
    const token = findToken(this.security, presented);
    if (token === null) {
      this.countGuess(address, now);
      this.logger.warn(`refused ${what}: a bearer token this console does not know ${from}`);
      throw new ApiError(
        401,
        'the bearer token is not one this console knows',
        { requiredRole: needs },
        { headers: { 'WWW-Authenticate': `${REALM}, error="invalid_token"` } },
      );
    }
    if (!roleAllows(token.role, needs)) {
      this.logger.warn(`refused ${what} to ${token.name} (${token.role}): needs ${needs} ${from}`);
      throw new ApiError(
        403,
        `${what} needs the ${needs} role; the token "${token.name}" has the ${token.role} role`,
        { requiredRole: needs, role: token.role, token: token.name },
      );
    }
    // Changes are audited by the token's name; reads are too many to log.
    if (req.method !== 'GET' && req.method !== 'HEAD')
      this.logger.log(`${token.name} (${token.role}): ${what}`);
    return true;
  }

  private countGuess(address: string, now: number): void {
    const entry = this.guesses.get(address);
    if (entry !== undefined) {
      entry.count++;
      return;
    }
    if (this.guesses.size >= MAX_TRACKED) this.guesses.delete(this.guesses.keys().next().value as string);
    this.guesses.set(address, { count: 1, since: now });
  }
}

import { ANONYMOUS } from './principal';

/** The most decisions a connection caches per operation and resource type (a client naming endless topics). */
const MAX_CACHED = 4096;

/**
 * Who is on the other end of one connection: the listener it came through, the client's
 * address, and the principal (User:ANONYMOUS until a certificate or SASL says otherwise).
 * It also caches the authorizer's decisions for this principal, valid for one ACL version.
 */
export class Session {
  principal = ANONYMOUS;
  private aclVersion = -1;
  private decisions: (Map<string, boolean> | undefined)[] = [];

  constructor(
    readonly listenerName: string,
    readonly host: string,
  ) {}

  /** The cached decisions of one operation on one resource type (emptied when the ACLs changed). */
  decisionsFor(aclVersion: number, slot: number): Map<string, boolean> {
    if (aclVersion !== this.aclVersion) {
      this.aclVersion = aclVersion;
      this.decisions = [];
    }
    let cache = this.decisions[slot];
    if (cache === undefined) this.decisions[slot] = cache = new Map();
    return cache;
  }

  remember(cache: Map<string, boolean>, name: string, decision: boolean): void {
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(name, decision);
  }

  /** After authentication: a new principal, so nothing cached applies. */
  authenticated(principal: string): void {
    this.principal = principal;
    this.aclVersion = -1;
    this.decisions = [];
  }
}

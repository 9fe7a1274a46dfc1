import type { PeerCertificate } from 'node:tls';
import { ConfigError } from '../config/config-error';

/** Kafka's principal of a connection that did not authenticate. */
export const ANONYMOUS = 'User:ANONYMOUS';

export const userPrincipal = (name: string): string => `User:${name}`;

/** Turns a certificate's distinguished name into a user name (ssl.principal.mapping.rules); null: no rule matched. */
export type PrincipalMapper = (distinguishedName: string) => string | null;

/**
 * Kafka's SslPrincipalMapper: DEFAULT keeps the distinguished name; RULE:pattern/replacement/
 * rewrites a name that matches the whole pattern, optionally lower- (L) or upper-cased (U).
 * The first rule that matches wins.
 */
export function parsePrincipalMappingRules(value: string, source: string): PrincipalMapper {
  const rules: ((dn: string) => string | null)[] = [];
  const re = /\s*(?:(DEFAULT)|RULE:((?:\\.|[^\\/])*)\/((?:\\.|[^\\/])*)\/([LU])?)\s*(?:,|$)/y;
  let at = 0;
  while (at < value.length) {
    re.lastIndex = at;
    const m = re.exec(value);
    if (m === null || m[0] === '')
      throw new ConfigError(
        source,
        'ssl.principal.mapping.rules',
        `cannot read the rule at "${value.slice(at, at + 40)}"`,
      );
    at = re.lastIndex;
    if (m[1] === 'DEFAULT') {
      rules.push((dn) => dn);
      continue;
    }
    let pattern: RegExp;
    try {
      pattern = new RegExp(`^(?:${m[2]})$`);
    } catch (err) {
      throw new ConfigError(source, 'ssl.principal.mapping.rules', `bad pattern: ${(err as Error).message}`);
    }
    const replacement = m[3];
    const fold = m[4];
    rules.push((dn) => {
      if (!pattern.test(dn)) return null;
      const out = dn.replace(pattern, replacement);
      return fold === 'L' ? out.toLowerCase() : fold === 'U' ? out.toUpperCase() : out;
    });
  }
  if (rules.length === 0) rules.push((dn) => dn);
  return (dn) => {
    for (const rule of rules) {
      const out = rule(dn);
      if (out !== null) return out;
    }
    return null;
  };
}

const RFC2253_SPECIAL = /[,+"\\<>;]/g;

/**
 * A certificate subject as Java's X500Principal.getName() prints it (RFC 2253): the most
 * specific part first, "CN=alice,OU=eng,O=example,C=US", which is what Kafka's principals hold.
 */
export function distinguishedName(cert: PeerCertificate): string {
  const parts: string[] = [];
  for (const [attr, value] of Object.entries(cert.subject ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) {
      parts.push(`${attr}=${String(v).replace(RFC2253_SPECIAL, (c) => `\\${c}`)}`);
    }
  }
  return parts.reverse().join(',');
}

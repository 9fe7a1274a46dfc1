import { ConfigError } from '../config/config-error';

/**
 * sasl.jaas.config as Kafka writes it, e.g.
 *   org.apache.kafka.common.security.plain.PlainLoginModule required
 *     username="broker" password="broker-secret" user_broker="broker-secret" user_alice="alice-secret";
 * username and password are what this broker logs in to others with; each user_NAME entry is
 * a PLAIN user (Kafka's PlainLoginModule). Errors never quote the text: it holds passwords.
 */
export interface JaasConfig {
  readonly loginModule: string | null;
  readonly username: string | null;
  readonly password: string | null;
  readonly plainUsers: ReadonlyMap<string, string>;
}

const FLAGS = new Set(['required', 'requisite', 'sufficient', 'optional']);

export function parseJaasConfig(text: string, source: string): JaasConfig {
  const fail = (problem: string): never => {
    throw new ConfigError(source, 'sasl.jaas.config', problem);
  };
  const trimmed = text.trim();
  if (trimmed === '') return { loginModule: null, username: null, password: null, plainUsers: new Map() };
  let at = 0;
  const skipSpace = (): void => {
    while (at < trimmed.length && /\s/.test(trimmed[at])) at++;
  };
  const word = (): string => {
    skipSpace();
    const start = at;
    while (at < trimmed.length && /[^\s=;"]/.test(trimmed[at])) at++;
    return trimmed.slice(start, at);
  };
  const loginModule = word();
  if (!/^[A-Za-z_$][\w$.]*$/.test(loginModule)) fail('must start with a login module class name');
  const flag = word();
  if (!FLAGS.has(flag)) fail(`the login module's flag must be one of ${[...FLAGS].join(', ')}`);
  const options = new Map<string, string>();
  for (;;) {
    skipSpace();
    if (at >= trimmed.length) fail('must end with ";"');
    if (trimmed[at] === ';') {
      at++;
      break;
    }
    const name = word();
    if (name === '' || trimmed[at] !== '=') fail(`option ${options.size + 1} is not name=value`);
    at++;
    let value: string;
    if (trimmed[at] === '"') {
      at++;
      value = '';
      while (at < trimmed.length && trimmed[at] !== '"') {
        if (trimmed[at] === '\\' && at + 1 < trimmed.length) at++;
        value += trimmed[at++];
      }
      if (at >= trimmed.length) fail(`the value of ${name} has no closing quote`);
      at++;
    } else {
      value = word();
    }
    if (options.has(name)) fail(`option ${name} is given twice`);
    options.set(name, value);
  }
  skipSpace();
  if (at < trimmed.length) fail('holds more than one login module; give one');
  const plainUsers = new Map<string, string>();
  for (const [name, value] of options) {
    if (name.startsWith('user_') && name.length > 5) plainUsers.set(name.slice(5), value);
  }
  return {
    loginModule,
    username: options.get('username') ?? null,
    password: options.get('password') ?? null,
    plainUsers,
  };
}

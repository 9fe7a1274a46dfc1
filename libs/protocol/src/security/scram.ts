import crypto from 'node:crypto';

/**
 * SCRAM (RFC 5802) with SHA-256 and SHA-512 (RFC 7677), as Kafka speaks it: the client and
 * server messages, and the credentials a server keeps (salt, StoredKey, ServerKey,
 * iterations), from which nobody can log in without the password.
 */
export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

interface MechanismSpec {
  readonly hash: 'sha256' | 'sha512';
  readonly keyLength: number;
  /** Kafka's ScramMechanism type in DescribeUserScramCredentials and AlterUserScramCredentials. */
  readonly type: number;
}

const MECHANISMS: Readonly<Record<ScramMechanism, MechanismSpec>> = {
  'SCRAM-SHA-256': { hash: 'sha256', keyLength: 32, type: 1 },
  'SCRAM-SHA-512': { hash: 'sha512', keyLength: 64, type: 2 },
};

/** Kafka's bounds on iterations (ScramMechanism.minIterations, AlterUserScramCredentials' maximum). */
export const SCRAM_MIN_ITERATIONS = 4096;
export const SCRAM_MAX_ITERATIONS = 16384;

export function isScramMechanism(name: string): name is ScramMechanism {
  return name === 'SCRAM-SHA-256' || name === 'SCRAM-SHA-512';
}

export function scramMechanismType(mechanism: ScramMechanism): number {
  return MECHANISMS[mechanism].type;
}

export function scramMechanismOfType(type: number): ScramMechanism | undefined {
  if (type === 1) return 'SCRAM-SHA-256';
  if (type === 2) return 'SCRAM-SHA-512';
  return undefined;
}

/** What a server stores for a user and mechanism: never the password nor the salted password. */
export interface ScramCredential {
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
  readonly iterations: number;
}

/** A failed exchange: a bad message, an unknown user or a wrong proof. */
export class ScramError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScramError';
  }
}

const hmac = (m: ScramMechanism, key: Buffer, data: string | Buffer): Buffer =>
  crypto.createHmac(MECHANISMS[m].hash, key).update(data).digest();
const hash = (m: ScramMechanism, data: Buffer): Buffer =>
  crypto.createHash(MECHANISMS[m].hash).update(data).digest();

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

/** Hi(password, salt, i) of RFC 5802: PBKDF2 with the mechanism's HMAC. */
export function scramSaltedPassword(
  mechanism: ScramMechanism,
  password: string,
  salt: Buffer,
  iterations: number,
): Promise<Buffer> {
  const spec = MECHANISMS[mechanism];
  return new Promise((resolve, reject) =>
    // Kafka and librdkafka hash the password's UTF-8 bytes as they are (no SASLprep).
    crypto.pbkdf2(Buffer.from(password, 'utf8'), salt, iterations, spec.keyLength, spec.hash, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** The stored credential from a salted password (what AlterUserScramCredentials carries). */
export function scramCredential(
  mechanism: ScramMechanism,
  salt: Buffer,
  saltedPassword: Buffer,
  iterations: number,
): ScramCredential {
  const clientKey = hmac(mechanism, saltedPassword, 'Client Key');
  return {
    salt: Buffer.from(salt),
    storedKey: hash(mechanism, clientKey),
    serverKey: hmac(mechanism, saltedPassword, 'Server Key'),
    iterations,
  };
}

/** A new random salt and the credential for a password. */
export async function newScramCredential(
  mechanism: ScramMechanism,
  password: string,
  iterations = SCRAM_MIN_ITERATIONS,
): Promise<ScramCredential> {
  const salt = crypto.randomBytes(MECHANISMS[mechanism].keyLength);
  return scramCredential(
    mechanism,
    salt,
    await scramSaltedPassword(mechanism, password, salt, iterations),
    iterations,
  );
}

/** saslname of RFC 5802: "=" and "," escaped. */
function escapeName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function unescapeName(name: string): string {
  if (/=(?!2C|3D)/.test(name)) throw new ScramError('invalid escape in the user name');
  return name.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/** Splits "k=v,k=v" attributes, keeping their order. */
function attributes(message: string): [string, string][] {
  return message.split(',').map((part) => {
    if (part.length < 2 || part[1] !== '=') throw new ScramError(`invalid attribute "${part.slice(0, 40)}"`);
    return [part[0], part.slice(2)];
  });
}

const PRINTABLE_NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;

function newNonce(): string {
  return crypto.randomBytes(24).toString('base64');
}

/**
 * The client side: first message, final message with the proof, then the server's
 * signature checked (so a server that does not know the credential is caught too).
 */
export class ScramClient {
  private readonly clientNonce: string;
  private clientFirstBare = '';
  private expectedServerSignature: Buffer | null = null;

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly username: string,
    private readonly password: string,
    nonce: string = newNonce(),
  ) {
    this.clientNonce = nonce;
  }

  firstMessage(): Buffer {
    this.clientFirstBare = `n=${escapeName(this.username)},r=${this.clientNonce}`;
    return Buffer.from(`n,,${this.clientFirstBare}`, 'utf8');
  }

  async finalMessage(serverFirst: Buffer): Promise<Buffer> {
    const text = serverFirst.toString('utf8');
    const attrs = new Map(attributes(text));
    if (attrs.has('e')) throw new ScramError(`the server refused: ${attrs.get('e')}`);
    const nonce = attrs.get('r');
    const salt = attrs.get('s');
    const iterations = Number(attrs.get('i'));
    if (nonce === undefined || salt === undefined || !Number.isSafeInteger(iterations))
      throw new ScramError('the server-first-message lacks r, s or i');
    if (!nonce.startsWith(this.clientNonce) || nonce.length === this.clientNonce.length)
      throw new ScramError("the server's nonce does not extend ours");
    if (iterations < SCRAM_MIN_ITERATIONS)
      throw new ScramError(
        `the server asks for ${iterations} iterations, fewer than ${SCRAM_MIN_ITERATIONS}`,
      );
    const m = this.mechanism;
    const salted = await scramSaltedPassword(m, this.password, Buffer.from(salt, 'base64'), iterations);
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${text},${withoutProof}`;
    const clientKey = hmac(m, salted, 'Client Key');
    const signature = hmac(m, hash(m, clientKey), authMessage);
    this.expectedServerSignature = hmac(m, hmac(m, salted, 'Server Key'), authMessage);
    return Buffer.from(`${withoutProof},p=${xor(clientKey, signature).toString('base64')}`, 'utf8');
  }

  /** Throws unless the server proved it knows the credential. */
  verifyServerFinal(serverFinal: Buffer): void {
    const attrs = new Map(attributes(serverFinal.toString('utf8')));
    if (attrs.has('e')) throw new ScramError(`the server refused: ${attrs.get('e')}`);
    const v = attrs.get('v');
    const expected = this.expectedServerSignature;
    if (v === undefined || expected === null) throw new ScramError('the server-final-message lacks v');
    const got = Buffer.from(v, 'base64');
    if (got.length !== expected.length || !crypto.timingSafeEqual(got, expected))
      throw new ScramError("the server's signature is wrong");
  }
}

/**
 * The server side of one exchange (Kafka's ScramSaslServer): client-first -> server-first,
 * client-final -> server-final. An unknown user gets a made-up salt (stable per user) and
 * fails at the proof, so the exchange does not tell which users exist.
 */
export class ScramServer {
  private state: 'first' | 'final' | 'complete' | 'failed' = 'first';
  private user = '';
  private credential: ScramCredential | null = null;
  private nonce = '';
  private gs2Header = '';
  private clientFirstBare = '';
  private serverFirst = '';

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly lookup: (user: string) => ScramCredential | undefined,
    private readonly fakeSalt: (user: string) => Buffer,
  ) {}

  get complete(): boolean {
    return this.state === 'complete';
  }

  /** The authenticated user, once complete. */
  get username(): string {
    return this.user;
  }

  /** The answer to the client's next message; throws ScramError on anything wrong. */
  evaluate(token: Buffer): Buffer {
    try {
      if (this.state === 'first') return this.first(token.toString('utf8'));
      if (this.state === 'final') return this.final(token.toString('utf8'));
      throw new ScramError(
        `unexpected message after the exchange ${this.state === 'complete' ? 'completed' : 'failed'}`,
      );
    } catch (err) {
      this.state = 'failed';
      throw err instanceof ScramError ? err : new ScramError((err as Error).message);
    }
  }

  private first(message: string): Buffer {
    // gs2-header: n (no channel binding) or y (client could but thinks we cannot); p= is refused.
    const m = /^([ny]),(a=[^,]*)?,(.*)$/.exec(message);
    if (m === null) throw new ScramError('invalid client-first-message (channel binding is not supported)');
    this.gs2Header = `${m[1]},${m[2] ?? ''},`;
    this.clientFirstBare = m[3];
    const attrs = attributes(this.clientFirstBare);
    if (attrs[0]?.[0] !== 'n' || attrs[1]?.[0] !== 'r')
      throw new ScramError('invalid client-first-message: n= and r= must come first');
    this.user = unescapeName(attrs[0][1]);
    if (this.user === '') throw new ScramError('empty user name');
    const authzid = m[2] === undefined ? '' : unescapeName(m[2].slice(2));
    if (authzid !== '' && authzid !== this.user)
      throw new ScramError('the authorization id differs from the user name');
    const clientNonce = attrs[1][1];
    if (!PRINTABLE_NONCE.test(clientNonce)) throw new ScramError('invalid client nonce');
    for (const [k] of attrs.slice(2))
      if (k === 'm') throw new ScramError('mandatory extensions are not supported');
    this.credential = this.lookup(this.user) ?? null;
    const salt = this.credential?.salt ?? this.fakeSalt(this.user);
    const iterations = this.credential?.iterations ?? SCRAM_MIN_ITERATIONS;
    this.nonce = clientNonce + newNonce();
    this.serverFirst = `r=${this.nonce},s=${salt.toString('base64')},i=${iterations}`;
    this.state = 'final';
    return Buffer.from(this.serverFirst, 'utf8');
  }

  private final(message: string): Buffer {
    const proofAt = message.lastIndexOf(',p=');
    if (proofAt < 0) throw new ScramError('invalid client-final-message: no proof');
    const withoutProof = message.slice(0, proofAt);
    const attrs = new Map(attributes(withoutProof));
    if (attrs.get('c') !== Buffer.from(this.gs2Header, 'utf8').toString('base64'))
      throw new ScramError('invalid client-final-message: channel binding differs from the first message');
    // Kafka checks only that the nonce ends with the server's (librdkafka sends its own nonce
    // again in front of it); the proof is over the message as the client sent it.
    if (!(attrs.get('r') ?? '').endsWith(this.nonce))
      throw new ScramError('invalid client-final-message: nonce mismatch');
    const proof = Buffer.from(message.slice(proofAt + 3), 'base64');
    const credential = this.credential;
    const m = this.mechanism;
    if (credential === null || proof.length !== credential.storedKey.length)
      throw new ScramError('invalid credentials');
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientKey = xor(proof, hmac(m, credential.storedKey, authMessage));
    if (!crypto.timingSafeEqual(hash(m, clientKey), credential.storedKey))
      throw new ScramError('invalid credentials');
    this.state = 'complete';
    return Buffer.from(`v=${hmac(m, credential.serverKey, authMessage).toString('base64')}`, 'utf8');
  }
}

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { decodePlainToken, encodePlainToken } from './sasl-plain';
import {
  newScramCredential,
  ScramClient,
  ScramError,
  ScramServer,
  scramCredential,
  scramSaltedPassword,
} from './scram';

test('SCRAM-SHA-256 client reproduces the exchange of RFC 7677 section 3', async () => {
  const client = new ScramClient('SCRAM-SHA-256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
  assert.equal(client.firstMessage().toString(), 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
  const serverFirst =
    'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
  const final = await client.finalMessage(Buffer.from(serverFirst));
  assert.equal(
    final.toString(),
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  );
  client.verifyServerFinal(Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='));
  assert.throws(() => client.verifyServerFinal(Buffer.from('v=AAAA')), ScramError);
});

test('the stored credential of RFC 7677 verifies the RFC client proof; the salted password is not kept', async () => {
  const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
  const salted = await scramSaltedPassword('SCRAM-SHA-256', 'pencil', salt, 4096);
  const credential = scramCredential('SCRAM-SHA-256', salt, salted, 4096);
  assert.deepEqual(Object.keys(credential).sort(), ['iterations', 'salt', 'serverKey', 'storedKey']);
  assert.notDeepEqual(credential.storedKey, salted);
  assert.notDeepEqual(credential.serverKey, salted);
});

for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
  test(`${mechanism}: our client and server agree; a wrong password fails at the proof`, async () => {
    const credential = await newScramCredential(mechanism, 's3cret,=x', 4096);
    const lookup = (user: string) => (user === 'ali,ce=' ? credential : undefined);
    const fakeSalt = (user: string) => crypto.createHash('sha256').update(user).digest();
    const exchange = async (user: string, password: string) => {
      const server = new ScramServer(mechanism, lookup, fakeSalt);
      const client = new ScramClient(mechanism, user, password);
      const serverFirst = server.evaluate(client.firstMessage());
      const serverFinal = server.evaluate(await client.finalMessage(serverFirst));
      client.verifyServerFinal(serverFinal);
      assert.equal(server.complete, true);
      return server.username;
    };
    assert.equal(await exchange('ali,ce=', 's3cret,=x'), 'ali,ce=');
    await assert.rejects(exchange('ali,ce=', 'wrong'), /invalid credentials/);
    await assert.rejects(exchange('nobody', 's3cret,=x'), /invalid credentials/);
  });
}

test("SCRAM server accepts librdkafka's final nonce (its own nonce again before the server's), as Kafka does", async () => {
  const credential = await newScramCredential('SCRAM-SHA-256', 'pw', 4096);
  const server = new ScramServer(
    'SCRAM-SHA-256',
    () => credential,
    () => Buffer.alloc(32),
  );
  const clientNonce = 'abcdef';
  const clientFirstBare = `n=u,r=${clientNonce}`;
  const serverFirst = server.evaluate(Buffer.from(`n,,${clientFirstBare}`)).toString();
  const nonce = /r=([^,]+)/.exec(serverFirst)![1];
  const withoutProof = `c=biws,r=${clientNonce}${nonce}`;
  const salted = await scramSaltedPassword('SCRAM-SHA-256', 'pw', credential.salt, 4096);
  const hmac = (key: Buffer, data: string) => crypto.createHmac('sha256', key).update(data).digest();
  const clientKey = hmac(salted, 'Client Key');
  const storedKey = crypto.createHash('sha256').update(clientKey).digest();
  const signature = hmac(storedKey, `${clientFirstBare},${serverFirst},${withoutProof}`);
  const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]));
  const final = server.evaluate(Buffer.from(`${withoutProof},p=${proof.toString('base64')}`));
  assert.match(final.toString(), /^v=/);
  assert.equal(server.complete, true);
});

test('SCRAM server refuses malformed and out-of-order messages without throwing anything but ScramError', () => {
  const lookup = () => undefined;
  const fakeSalt = () => Buffer.alloc(32, 1);
  const bad = [
    '',
    'garbage',
    'p=tls-unique,,n=u,r=abc',
    'n,,r=abc,n=u',
    'n,,n=,r=abc',
    'n,,n=a=ZZ,r=abc',
    'n,a=other,n=u,r=abc',
    'n,,n=u,r=a,b',
    '\u0000\u0001\u0002',
  ];
  for (const message of bad) {
    const server = new ScramServer('SCRAM-SHA-256', lookup, fakeSalt);
    assert.throws(() => server.evaluate(Buffer.from(message)), ScramError, JSON.stringify(message));
    assert.throws(() => server.evaluate(Buffer.from('n,,n=u,r=abc')), ScramError);
  }
  const server = new ScramServer('SCRAM-SHA-256', lookup, fakeSalt);
  const first = server.evaluate(Buffer.from('n,,n=u,r=abc')).toString();
  assert.match(first, /^r=abc[^,]+,s=AQEB[^,]*,i=4096$/);
  assert.throws(() => server.evaluate(Buffer.from('c=biws,r=wrong,p=AAAA')), ScramError);
});

test('PLAIN tokens: authzid, user and password; anything else is null', () => {
  assert.deepEqual(decodePlainToken(encodePlainToken('alice', 'pw')), {
    authzid: '',
    username: 'alice',
    password: 'pw',
  });
  assert.equal(decodePlainToken(Buffer.from('alice\u0000pw')), null);
  assert.equal(decodePlainToken(Buffer.from('\u0000alice\u0000')), null);
  assert.equal(decodePlainToken(Buffer.from('\u0000\u0000pw')), null);
  assert.equal(decodePlainToken(Buffer.from('a\u0000b\u0000c\u0000d')), null);
});

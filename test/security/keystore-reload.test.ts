import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { Admin, ConfigResourceType } from '@tributary/client';
import { startBroker, tempDir, type BrokerProcess } from '../support/broker-process';
import { until } from '../support/mirror-process';
import { makeCertificates, renewedBrokerCertificate, type TestCertificates } from '../support/tls-certs';

/** The subject CN of the certificate the listener presents, or the handshake's error. */
function presented(
  port: number,
  certs: TestCertificates,
  client?: { cert: string; key: string },
): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ca: fs.readFileSync(certs.ca),
      ...(client === undefined
        ? {}
        : { cert: fs.readFileSync(client.cert), key: fs.readFileSync(client.key) }),
    });
    socket.once('secureConnect', () => {
      // TLS 1.3 reports a refused client certificate after the handshake: wait for the broker's verdict.
      const cn = socket.getPeerCertificate().subject.CN;
      socket.once('error', (err) => resolve(`error: ${err.message}`));
      socket.once('close', () => resolve(cn));
      setTimeout(() => socket.end(), 200);
    });
    socket.once('error', (err) => resolve(`error: ${err.message}`));
  });
}

/**
 * A listener's certificate changed at runtime, Kafka's way: an AlterConfigs naming the
 * listener's keystore (the same files, renewed in place, or new ones) reloads it for new
 * connections; ssl.client.auth per listener changes what clients must show.
 */
describe('TLS listener settings changed at runtime', () => {
  let certs: TestCertificates;
  let broker: BrokerProcess;
  let admin: Admin;
  let sslPort: number;
  const keystore = tempDir('keystore');
  const certFile = path.join(keystore, 'listener.pem');
  const keyFile = path.join(keystore, 'listener.key');

  before(async () => {
    certs = makeCertificates();
    fs.copyFileSync(certs.brokerCert, certFile);
    fs.copyFileSync(certs.brokerKey, keyFile);
    broker = await startBroker({
      extraArgs: [
        '--set',
        'listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0',
        '--set',
        `ssl.certificate.location=${certFile}`,
        '--set',
        `ssl.key.location=${keyFile}`,
        '--set',
        `ssl.ca.location=${certs.ca}`,
      ],
    });
    await until('the SSL listener', () => broker.listenerPorts().SSL !== undefined, 10_000, 50);
    sslPort = broker.listenerPorts().SSL;
    admin = new Admin({ bootstrapServers: `127.0.0.1:${broker.listenerPorts().PLAINTEXT}` });
  });

  after(async () => {
    await admin.close();
    assert.equal(await broker.stop(), 0);
  });

  const self = { type: ConfigResourceType.BROKER, name: '1' };

  test('a certificate renewed in place is served after an update naming the same files', async () => {
    assert.equal(await presented(sslPort, certs), 'broker');
    const renewed = renewedBrokerCertificate(certs, 'renewed', 'broker-renewed');
    fs.copyFileSync(renewed.cert, certFile);
    fs.copyFileSync(renewed.key, keyFile);
    // Nothing reads the files until an update names them.
    assert.equal(await presented(sslPort, certs), 'broker');
    await admin.alterConfigs(self, [
      { name: 'listener.name.ssl.ssl.certificate.location', value: certFile },
      { name: 'listener.name.ssl.ssl.key.location', value: keyFile },
    ]);
    assert.equal(await presented(sslPort, certs), 'broker-renewed');
    const described = await admin.describeConfigs(self, ['listener.name.ssl.ssl.certificate.location'], {
      includeSynonyms: true,
    });
    assert.deepEqual(described[0].synonyms, [
      { name: 'listener.name.ssl.ssl.certificate.location', value: certFile, source: 2 },
      { name: 'ssl.certificate.location', value: certFile, source: 4 },
    ]);
  });

  test('ssl.client.auth per listener: required refuses a client without a certificate', async () => {
    await admin.alterConfigs(self, [{ name: 'listener.name.ssl.ssl.client.auth', value: 'required' }]);
    assert.match(await presented(sslPort, certs), /^error: /);
    assert.equal(
      await presented(sslPort, certs, { cert: certs.clientCert, key: certs.clientKey }),
      'broker-renewed',
    );
    await admin.alterConfigs(self, [{ name: 'listener.name.ssl.ssl.client.auth', op: 'delete' }]);
    assert.equal(await presented(sslPort, certs), 'broker-renewed');
  });

  test('files that cannot be used are refused, naming the key, and the listener keeps its certificate', async () => {
    await assert.rejects(
      admin.alterConfigs(self, [
        { name: 'listener.name.ssl.ssl.certificate.location', value: '/no/such.pem' },
      ]),
      /INVALID_REQUEST: Invalid dynamic configuration: .*listener\.name\.ssl\.ssl\.certificate\.location: cannot read \/no\/such\.pem/,
    );
    await assert.rejects(
      admin.alterConfigs(self, [{ name: 'listener.name.nope.ssl.client.auth', value: 'required' }]),
      /names listener NOPE, which is not one of this broker's \(PLAINTEXT, SSL\)/,
    );
    assert.equal(await presented(sslPort, certs), 'broker-renewed');
  });
});

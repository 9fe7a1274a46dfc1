import fs from 'node:fs';
import path from 'node:path';
import { run, tempDir } from './broker-process';

export interface TestCertificates {
  readonly dir: string;
  /** The test CA's certificate (what clients and brokers trust). */
  readonly ca: string;
  /** A broker certificate for 127.0.0.1 and localhost, usable as a server and as a client (inter-broker). */
  readonly brokerCert: string;
  readonly brokerKey: string;
  /** A client certificate: CN=client-cert,OU=clients,O=Tributary. */
  readonly clientCert: string;
  readonly clientKey: string;
  /** A client certificate signed by another CA, which the broker must not trust. */
  readonly rogueCert: string;
  readonly rogueKey: string;
}

function openssl(dir: string, args: string[]): void {
  const r = run('openssl', args, undefined, 30_000);
  if (r.status !== 0) throw new Error(`openssl ${args[0]} in ${dir} failed: ${r.stderr}`);
}

function ca(dir: string, name: string, cn: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    path.join(dir, `${name}.key`),
    '-out',
    path.join(dir, `${name}.pem`),
    '-days',
    '2',
    '-subj',
    `/CN=${cn}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

function signed(dir: string, name: string, issuer: string, subject: string, extensions: string): void {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(ext, extensions);
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    csr,
    '-subj',
    subject,
  ]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    path.join(dir, `${issuer}.pem`),
    '-CAkey',
    path.join(dir, `${issuer}.key`),
    '-CAcreateserial',
    '-out',
    path.join(dir, `${name}.pem`),
    '-days',
    '2',
    '-extfile',
    ext,
  ]);
}

/** The extensions of a broker's certificate: 127.0.0.1 and localhost, server and client use. */
const BROKER_EXTENSIONS =
  'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n';

/** Another broker certificate from the same CA (a renewal), as `<dir>/<name>.pem` and `.key`. */
export function renewedBrokerCertificate(
  certs: TestCertificates,
  name: string,
  cn: string,
): { cert: string; key: string } {
  signed(certs.dir, name, 'ca', `/O=Tributary/CN=${cn}`, BROKER_EXTENSIONS);
  return { cert: path.join(certs.dir, `${name}.pem`), key: path.join(certs.dir, `${name}.key`) };
}

/** A CA and certificates made with openssl in a temporary directory (EC keys: quick to make). */
export function makeCertificates(): TestCertificates {
  const dir = tempDir('tls');
  ca(dir, 'ca', 'Tributary Test CA');
  ca(dir, 'rogue-ca', 'Someone Else');
  signed(dir, 'broker', 'ca', '/O=Tributary/CN=broker', BROKER_EXTENSIONS);
  const client = 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n';
  signed(dir, 'client', 'ca', '/O=Tributary/OU=clients/CN=client-cert', client);
  signed(dir, 'rogue', 'rogue-ca', '/O=Tributary/OU=clients/CN=client-cert', client);
  const file = (name: string) => path.join(dir, name);
  return {
    dir,
    ca: file('ca.pem'),
    brokerCert: file('broker.pem'),
    brokerKey: file('broker.key'),
    clientCert: file('client.pem'),
    clientKey: file('client.key'),
    rogueCert: file('rogue.pem'),
    rogueKey: file('rogue.key'),
  };
}

import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { startBroker, tempDir, type BrokerProcess } from './broker-process';
import { until } from './mirror-process';
import type { TestCertificates } from './tls-certs';

export interface SecureBroker {
  readonly broker: BrokerProcess;
  /** host:port of the SASL_SSL listener. */
  readonly bootstrap: string;
}

/**
 * A broker whose only listener is SASL_SSL (SCRAM-SHA-256 and -512), with the ACL authorizer
 * on and one super user created from the config.
 */
export async function startSaslSslBroker(
  certs: TestCertificates,
  superUser: { name: string; password: string },
): Promise<SecureBroker> {
  const configFile = path.join(tempDir('secure-config'), 'broker.yaml');
  fs.writeFileSync(
    configFile,
    stringify({
      'ssl.key.location': certs.brokerKey,
      'ssl.certificate.location': certs.brokerCert,
      'ssl.ca.location': certs.ca,
      'sasl.enabled.mechanisms': 'SCRAM-SHA-256,SCRAM-SHA-512',
      'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
      'sasl.jaas.config':
        'org.apache.kafka.common.security.scram.ScramLoginModule required ' +
        `username="${superUser.name}" password="${superUser.password}";`,
      'sasl.scram.bootstrap.users': `SCRAM-SHA-512=[name=${superUser.name},password=${superUser.password}]`,
      'authorizer.class.name': 'kafka.security.authorizer.AclAuthorizer',
      'super.users': `User:${superUser.name}`,
      'auto.create.topics.enable': false,
    }),
  );
  const broker = await startBroker({
    extraArgs: ['--config', configFile, '--set', 'listeners=SASL_SSL://127.0.0.1:0'],
  });
  await until('the SASL_SSL listener', () => broker.listenerPorts().SASL_SSL !== undefined, 10_000, 50);
  return { broker, bootstrap: `127.0.0.1:${broker.listenerPorts().SASL_SSL}` };
}

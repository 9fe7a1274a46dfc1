import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from './config/config-error';

/**
 * meta.properties in the data dir, as Kafka keeps it: the cluster id and node id the
 * directory belongs to, so a directory is never served by the wrong broker or cluster.
 */
export function loadOrCreateMetaProperties(
  dataDir: string,
  nodeId: number,
  clusterId: string | null,
): { clusterId: string } {
  const file = path.join(dataDir, 'meta.properties');
  if (fs.existsSync(file)) {
    const props = new Map<string, string>();
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const m = /^\s*([^#=\s][^=]*)=(.*)$/.exec(line);
      if (m) props.set(m[1].trim(), m[2].trim());
    }
    const storedNode = props.get('node.id');
    const storedCluster = props.get('cluster.id');
    if (storedNode !== undefined && Number(storedNode) !== nodeId) {
      throw new ConfigError(file, 'node.id', `the data dir belongs to node ${storedNode}, not ${nodeId}`);
    }
    if (storedCluster !== undefined && clusterId !== null && storedCluster !== clusterId) {
      throw new ConfigError(
        file,
        'cluster.id',
        `the data dir belongs to cluster ${storedCluster}, not ${clusterId}`,
      );
    }
    if (storedCluster !== undefined) return { clusterId: storedCluster };
  }
  const id = clusterId ?? randomBytes(16).toString('base64url');
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, `#Written by Tributary\nversion=1\ncluster.id=${id}\nnode.id=${nodeId}\n`);
  fs.renameSync(tmp, file);
  return { clusterId: id };
}

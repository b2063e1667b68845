/**
 * Pure service-discovery model for the etcd publisher. Key layout (documented in
 * examples/docker-glue.d/README.md):
 *
 *   <prefix>/services/<service>/<instance>  →  JSON InstanceRecord
 *
 * - prefix: param `prefix`, default `/bosun/glue`
 * - service: label `glue_service`, else `bosun.service`, else the container name
 * - instance: the first 12 characters of the container id
 * Only routable containers are published: running, with an address and at least one
 * exposed port named by glue_http_* / glue_tcp_* labels.
 */
import type { GlueContainer } from './types.js';
import { addressOf } from './lb-model.js';
import { LABEL } from '../domain/labels.js';
import { parseGlueLabels } from './labels.js';

export interface InstancePort {
  port: number;
  proto: 'http' | 'tcp';
  weight: number;
  host?: string;
  prefix?: string;
  strip?: boolean;
}

export interface InstanceRecord {
  service: string;
  instance: string;
  containerId: string;
  name: string;
  image: string;
  node: string;
  address: string;
  ports: InstancePort[];
  labels: Record<string, string>;
}

export function serviceOf(c: GlueContainer): string {
  const s = c.labels.glue_service || c.labels[LABEL.service] || c.name;
  return s.replace(/[^A-Za-z0-9_.-]/g, '_');
}

export function instanceRecords(containers: readonly GlueContainer[], opts: { prefix: string; node: string; network?: string }): Map<string, string> {
  const out = new Map<string, string>();
  const prefix = opts.prefix.replace(/\/+$/, '');
  for (const c of [...containers].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    const parsed = parseGlueLabels(c.labels);
    // the same choice as the load balancer's, so etcd and haproxy agree on a multi-network container
    const address = addressOf(c, opts.network);
    if (!address) continue;
    const exposed = (p: number) => c.exposedPorts.includes(`${p}/tcp`);
    const ports: InstancePort[] = [
      ...parsed.http.filter((r) => exposed(r.port)).map((r) => ({ port: r.port, proto: 'http' as const, weight: r.weight, host: r.host, prefix: r.prefix, strip: r.strip })),
      ...parsed.tcp.filter((r) => exposed(r.port)).map((r) => ({ port: r.port, proto: 'tcp' as const, weight: r.weight })),
    ];
    if (ports.length === 0) continue;
    const record: InstanceRecord = {
      service: serviceOf(c),
      instance: c.id.slice(0, 12),
      containerId: c.id,
      name: c.name,
      image: c.image,
      node: opts.node,
      address,
      ports,
      labels: c.labels,
    };
    out.set(`${prefix}/services/${record.service}/${record.instance}`, JSON.stringify(record));
  }
  return out;
}

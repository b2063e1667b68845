/**
 * Pure load-balancer model: running containers in, routes out. No I/O, no clock; the
 * template renders this model. Order of `routes` is the order HAProxy must try them:
 * longer (more specific) hosts first, host-less routes last, and within one host the
 * longest prefix first — so Host (exact and subdomain) decides, then the longest prefix.
 */
import type { GlueContainer } from './types.js';
import { parseGlueLabels } from './labels.js';

export interface LbServer {
  /** Stable, HAProxy-safe name derived from the container name and port. */
  name: string;
  containerId: string;
  address: string;
  port: number;
  weight: number;
}

export interface HttpRoute {
  /** Backend name, HAProxy-safe and stable for a given host+prefix. */
  name: string;
  host: string;
  prefix: string;
  strip: boolean;
  servers: LbServer[];
}

export interface TcpService {
  name: string;
  /** Container port. */
  port: number;
  /** Port HAProxy listens on (container port + offset). */
  listenPort: number;
  servers: LbServer[];
}

export interface LbModel {
  routes: HttpRoute[];
  tcp: TcpService[];
  /** Containers or labels skipped, with why (logged by the handler). */
  problems: string[];
}

export interface LbOptions {
  /** Docker network whose IP is used; default: the first network with an address. */
  network?: string;
  tcpPortOffset: number;
}

export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60) || '_';
}

/** `<container>_<port>`, made unique in its backend (names cut to 60 characters can collide) with the container id. */
function serverName(taken: readonly { name: string }[], c: GlueContainer, port: number): string {
  const name = safeName(`${c.name}_${port}`);
  return taken.some((s) => s.name === name) ? safeName(`${c.name.slice(0, 30)}_${c.id.slice(0, 12)}_${port}`) : name;
}

export function addressOf(c: GlueContainer, network: string | undefined): string | undefined {
  if (network !== undefined) return c.networks[network] || undefined;
  const names = Object.keys(c.networks).sort();
  for (const n of names) if (c.networks[n]) return c.networks[n];
  return undefined;
}

export function compareRoutes(a: { host: string; prefix: string }, b: { host: string; prefix: string }): number {
  if ((a.host === '') !== (b.host === '')) return a.host === '' ? 1 : -1;
  if (a.host.length !== b.host.length) return b.host.length - a.host.length;
  if (a.host !== b.host) return a.host < b.host ? -1 : 1;
  if (a.prefix.length !== b.prefix.length) return b.prefix.length - a.prefix.length;
  return a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0;
}

export function buildLbModel(containers: readonly GlueContainer[], opts: LbOptions): LbModel {
  const problems: string[] = [];
  const http = new Map<string, HttpRoute>();
  const tcp = new Map<number, TcpService>();
  // Sorted input makes the output (and so the rendered config) independent of list order.
  const sorted = [...containers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1));
  for (const c of sorted) {
    const parsed = parseGlueLabels(c.labels);
    for (const p of parsed.problems) problems.push(`${c.name}: ${p}`);
    if (parsed.http.length === 0 && parsed.tcp.length === 0) continue;
    const address = addressOf(c, opts.network);
    if (!address) {
      problems.push(`${c.name}: no IP address${opts.network ? ` on network ${opts.network}` : ''}, skipped`);
      continue;
    }
    for (const r of parsed.http) {
      if (!c.exposedPorts.includes(`${r.port}/tcp`)) {
        problems.push(`${c.name}: port ${r.port} is not exposed, HTTP route skipped`);
        continue;
      }
      const key = `${r.host}\u0000${r.prefix}`;
      let route = http.get(key);
      if (!route) {
        route = { name: '', host: r.host, prefix: r.prefix, strip: r.strip, servers: [] };
        http.set(key, route);
      } else if (route.strip !== r.strip) {
        problems.push(`${c.name}: strip_prefix disagrees with other containers on ${r.host || '*'}/${r.prefix}; keeping ${route.strip ? '1' : '0'}`);
      }
      route.servers.push({ name: serverName(route.servers, c, r.port), containerId: c.id, address, port: r.port, weight: r.weight });
    }
    for (const t of parsed.tcp) {
      if (!c.exposedPorts.includes(`${t.port}/tcp`)) {
        problems.push(`${c.name}: port ${t.port} is not exposed, TCP route skipped`);
        continue;
      }
      let svc = tcp.get(t.port);
      if (!svc) {
        svc = { name: `tcp_${t.port}`, port: t.port, listenPort: t.port + opts.tcpPortOffset, servers: [] };
        tcp.set(t.port, svc);
      }
      svc.servers.push({ name: serverName(svc.servers, c, t.port), containerId: c.id, address, port: t.port, weight: t.weight });
    }
  }
  const routes = [...http.values()].sort(compareRoutes);
  routes.forEach((r, i) => (r.name = safeName(`be_${i}_${r.host || 'any'}_${r.prefix.replace(/\//g, '_')}`)));
  const tcpList = [...tcp.values()].sort((a, b) => a.port - b.port);
  for (const s of tcpList) {
    if (s.listenPort < 1 || s.listenPort > 65535) problems.push(`tcp port ${s.port}: listen port ${s.listenPort} out of range`);
  }
  return { routes, tcp: tcpList.filter((s) => s.listenPort >= 1 && s.listenPort <= 65535), problems };
}

/** Regex-escapes a path prefix for HAProxy's replace-path (PCRE). */
export function regexEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

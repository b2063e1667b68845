/**
 * Seed 004's routing labels, parsed purely (no I/O). Per container port P:
 *   glue_http_P_host, glue_http_P_prefix (no leading "/"), glue_http_P_strip_prefix ("1"),
 *   glue_http_P_weight (default 100); glue_http_ports / glue_tcp_ports (comma lists);
 *   glue_tcp_P_weight (default 100).
 * Bad values are reported as problems, never thrown: one bad container is skipped, not fatal.
 */

export interface HttpPortRoute {
  port: number;
  /** Lower-cased; empty = any host. */
  host: string;
  /** Normalised: no leading or trailing "/", empty = whole site. */
  prefix: string;
  strip: boolean;
  weight: number;
}

export interface TcpPortRoute {
  port: number;
  weight: number;
}

export interface ParsedGlueLabels {
  http: HttpPortRoute[];
  tcp: TcpPortRoute[];
  problems: string[];
}

export const DEFAULT_WEIGHT = 100;
/** HAProxy accepts server weights 0..256. */
export const MAX_WEIGHT = 256;

const HTTP_KEY = /^glue_http_(\d+)_(host|prefix|strip_prefix|weight)$/;
const HOST_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
// path characters, minus those HAProxy's config parser treats specially (' and $; # and \\ are not path characters)
const PREFIX_RE = /^[A-Za-z0-9._~!&()*+,;=:@%/-]*$/;

function parsePortList(raw: string | undefined, label: string, problems: string[]): number[] {
  if (raw === undefined || raw.trim() === '') return [];
  const out: number[] = [];
  for (const part of raw.split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1 || n > 65535) problems.push(`${label}: "${p}" is not a port`);
    else if (!out.includes(n)) out.push(n);
  }
  return out;
}

function parseWeight(raw: string | undefined, label: string, problems: string[]): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_WEIGHT;
  const n = Number(raw.trim());
  if (!Number.isInteger(n) || n < 0) {
    problems.push(`${label}: "${raw}" is not a non-negative integer, using ${DEFAULT_WEIGHT}`);
    return DEFAULT_WEIGHT;
  }
  if (n > MAX_WEIGHT) {
    problems.push(`${label}: ${n} capped to HAProxy's maximum ${MAX_WEIGHT}`);
    return MAX_WEIGHT;
  }
  return n;
}

export function normalisePrefix(raw: string): string {
  return raw.trim().replace(/^\/+/, '').replace(/\/+$/, '');
}

export function parseGlueLabels(labels: Record<string, string>): ParsedGlueLabels {
  const problems: string[] = [];
  const explicitHttp = 'glue_http_ports' in labels;
  let httpPorts = parsePortList(labels.glue_http_ports, 'glue_http_ports', problems);
  if (!explicitHttp) {
    const found = new Set<number>();
    for (const key of Object.keys(labels)) {
      const m = HTTP_KEY.exec(key);
      if (m) found.add(Number(m[1]));
    }
    httpPorts = [...found].filter((p) => p >= 1 && p <= 65535).sort((a, b) => a - b);
  }
  const http: HttpPortRoute[] = [];
  for (const port of httpPorts) {
    const host = (labels[`glue_http_${port}_host`] ?? '').trim().toLowerCase();
    if (host !== '' && !HOST_RE.test(host)) {
      problems.push(`glue_http_${port}_host: "${host}" is not a host name, port ${port} skipped`);
      continue;
    }
    const prefix = normalisePrefix(labels[`glue_http_${port}_prefix`] ?? '');
    if (!PREFIX_RE.test(prefix)) {
      problems.push(`glue_http_${port}_prefix: "${prefix}" has characters not allowed in a path, port ${port} skipped`);
      continue;
    }
    const strip = (labels[`glue_http_${port}_strip_prefix`] ?? '0').trim() === '1';
    const weight = parseWeight(labels[`glue_http_${port}_weight`], `glue_http_${port}_weight`, problems);
    http.push({ port, host, prefix, strip, weight });
  }
  const tcp: TcpPortRoute[] = [];
  for (const port of parsePortList(labels.glue_tcp_ports, 'glue_tcp_ports', problems)) {
    if (httpPorts.includes(port)) {
      problems.push(`glue_tcp_ports: ${port} is also an HTTP port, TCP mapping skipped`);
      continue;
    }
    tcp.push({ port, weight: parseWeight(labels[`glue_tcp_${port}_weight`], `glue_tcp_${port}_weight`, problems) });
  }
  return { http, tcp, problems };
}

/**
 * Pure diff of two rendered HAProxy configs: either the change is confined to `server` lines
 * of backends that exist in both (→ runtime API operations, no reload), or it is not (→ reload).
 *
 * Working on the rendered text rather than on the model keeps any template honest: whatever a
 * template makes of a server change (a `balance` that depends on the count, a comment), if
 * anything but `server` lines differs, the answer is a reload.
 */

export interface ParsedConfig {
  /** The config without its `server` lines inside backend/listen sections. */
  skeleton: string;
  /** backend/listen name → server name → the rest of its `server` line. */
  backends: Map<string, Map<string, string>>;
  /** Backends with a `default-server` line (dynamic servers do not inherit it). */
  withDefaults: Set<string>;
}

export type RuntimeOp =
  | { kind: 'add'; backend: string; server: string; args: string }
  | { kind: 'remove'; backend: string; server: string; args: string }
  | { kind: 'set-addr'; backend: string; server: string; addr: string; port: number }
  | { kind: 'set-weight'; backend: string; server: string; weight: number };

export type ServerPlan = { kind: 'runtime'; ops: RuntimeOp[] } | { kind: 'reload'; reason: string };

const SECTION = /^([A-Za-z][\w-]*)(?:\s+(\S+))?/;
const SERVER = /^\s+server\s+(\S+)\s+(\S.*?)\s*$/;
const DEFAULT_SERVER = /^\s+default-server\s/;

export function parseConfig(text: string): ParsedConfig {
  const backends = new Map<string, Map<string, string>>();
  const withDefaults = new Set<string>();
  const kept: string[] = [];
  let current: Map<string, string> | undefined;
  let currentName = '';
  for (const line of text.split('\n')) {
    const section = SECTION.exec(line);
    if (section) {
      const [, keyword, name] = section;
      current = (keyword === 'backend' || keyword === 'listen') && name ? new Map() : undefined;
      currentName = name ?? '';
      if (current) backends.set(currentName, current);
    } else if (current) {
      const server = SERVER.exec(line);
      if (server) {
        current.set(server[1]!, server[2]!);
        continue;
      }
      if (DEFAULT_SERVER.test(line)) withDefaults.add(currentName);
    }
    kept.push(line);
  }
  return { skeleton: kept.join('\n'), backends, withDefaults };
}

interface ServerArgs {
  addr: string;
  port: number | undefined;
  weight: number;
  /** Every other keyword and value, in order. */
  rest: string;
}

/** Splits `10.0.0.2:80 weight 5 check` into address, port, weight and the rest. */
export function parseServerArgs(args: string): ServerArgs {
  const tokens = args.split(/\s+/).filter(Boolean);
  const first = tokens.shift() ?? '';
  const colon = first.lastIndexOf(':');
  const portText = colon >= 0 ? first.slice(colon + 1) : '';
  const port = /^\d+$/.test(portText) ? Number(portText) : undefined;
  const addr = port === undefined ? first : first.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  let weight = 1;
  const rest: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] === 'weight' && /^\d+$/.test(tokens[i + 1] ?? '')) weight = Number(tokens[++i]);
    else rest.push(tokens[i]!);
  }
  return { addr, port, weight, rest: rest.join(' ') };
}

/**
 * What turns the config `from` (live) into `to`: runtime operations when only servers of
 * unchanged backends differ, else a reload with the reason. Adds come first and removals last,
 * so a backend whose server is replaced never goes through an empty moment.
 */
export function planServerUpdate(from: string, to: string): ServerPlan {
  const a = parseConfig(from);
  const b = parseConfig(to);
  if (a.skeleton !== b.skeleton) return { kind: 'reload', reason: 'frontends, backends or settings changed' };
  const adds: RuntimeOp[] = [];
  const sets: RuntimeOp[] = [];
  const removes: RuntimeOp[] = [];
  for (const [backend, next] of b.backends) {
    const prev = a.backends.get(backend) ?? new Map<string, string>();
    for (const [server, args] of next) {
      const old = prev.get(server);
      if (old === undefined) {
        if (b.withDefaults.has(backend)) return { kind: 'reload', reason: `backend ${backend} has a default-server line, which dynamic servers do not inherit` };
        adds.push({ kind: 'add', backend, server, args });
        continue;
      }
      if (old === args) continue;
      const o = parseServerArgs(old);
      const n = parseServerArgs(args);
      if (o.rest !== n.rest || n.port === undefined) return { kind: 'reload', reason: `server ${backend}/${server} changed beyond address, port and weight` };
      if (o.addr !== n.addr || o.port !== n.port) sets.push({ kind: 'set-addr', backend, server, addr: n.addr, port: n.port });
      if (o.weight !== n.weight) sets.push({ kind: 'set-weight', backend, server, weight: n.weight });
    }
    for (const [server, args] of prev) if (!next.has(server)) removes.push({ kind: 'remove', backend, server, args });
  }
  return { kind: 'runtime', ops: [...adds, ...sets, ...removes] };
}

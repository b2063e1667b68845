/**
 * Host ports: which host addresses a published port may bind and the lowest port. A port
 * published without an address binds to the policy's first allowed address (loopback by
 * default), never silently to every interface.
 */
import { BosunError } from '../errors.js';
import type { ContainerSpec, PortBinding } from '../../domain/engine/index.js';
import type { Policy } from './schema.js';

const ALL = new Set(['', '0.0.0.0', '::']);

/** The spec's port bindings with an unspecified host address replaced by the policy's default. */
export function withDefaultHostIp(policy: Policy, bindings: PortBinding[] | undefined): PortBinding[] | undefined {
  const def = policy.ports.allowed_host_ips[0];
  if (!bindings || def === undefined) return bindings;
  const allowsAll = policy.ports.allowed_host_ips.some((ip) => ALL.has(ip));
  return bindings.map((b) => ((b.hostIp ?? '') === '' && !allowsAll ? { ...b, hostIp: def } : b));
}

export function enforcePorts(policy: Policy, spec: ContainerSpec, field: string): void {
  const allowed = policy.ports.allowed_host_ips;
  for (const b of spec.portBindings ?? []) {
    const ip = b.hostIp ?? '';
    const ok = ALL.has(ip) ? allowed.some((a) => ALL.has(a)) : allowed.includes(ip);
    if (!ok) {
      throw new BosunError('policy_denied', `${field}: ${b.containerPort} would be published on ${ip === '' ? 'every interface' : ip}; the policy allows ${allowed.join(', ') || 'none'} (ports.allowed_host_ips)`, { field, retryable: false });
    }
    // A range ("1-1023") or any other form would slip past a numeric comparison: only plain numbers pass.
    if (b.hostPort && !/^\d+$/.test(b.hostPort)) {
      throw new BosunError('policy_denied', `${field}: host port "${b.hostPort}" must be one port number (ranges are not accepted)`, { field, retryable: false });
    }
    const port = Number(b.hostPort ?? '');
    if (b.hostPort && port !== 0 && port < policy.ports.min_host_port) {
      throw new BosunError('policy_denied', `${field}: host port ${port} is below ${policy.ports.min_host_port} (ports.min_host_port)`, { field, retryable: false });
    }
  }
}

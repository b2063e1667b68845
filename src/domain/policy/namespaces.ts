/**
 * Namespaces a container may share. The host's (network, pid, ipc, uts, userns, cgroupns)
 * only when the policy allows it; another container's (`container:X`) only when X is a
 * container of the same stack (the caller passes their names; runs belong to no stack, so
 * they have none). ipc/uts/userns/cgroupns are not in ContainerSpec: neither the run schema
 * nor the Compose schema accepts them, so they cannot be asked for.
 */
import { BosunError } from '../errors.js';
import type { ContainerSpec } from '../../domain/engine/index.js';
import type { Policy } from './schema.js';

export interface NamespaceScope {
  /** Names of the containers of the same stack, whose namespaces a container may join. */
  peers?: ReadonlySet<string>;
}

function deny(field: string, message: string): never {
  throw new BosunError('policy_denied', message, { field, retryable: false });
}

function enforceMode(mode: string | undefined, field: string, hostAllowed: boolean, what: string, scope: NamespaceScope): void {
  if (mode === undefined) return;
  if (mode === 'host') {
    if (!hostAllowed) deny(field, `${field}: the host ${what} namespace is not allowed by policy`);
    return;
  }
  const m = /^(container|service):(.*)$/.exec(mode);
  if (!m) return;
  const target = m[2]!;
  if (m[1] === 'container' && scope.peers?.has(target)) return;
  deny(field, scope.peers
    ? `${field}: "${mode}" joins the ${what} namespace of a container outside this stack; only containers of the same stack may share namespaces`
    : `${field}: "${mode}" joins another container's ${what} namespace; runs may not share namespaces with other containers`);
}

/**
 * The engine uses the first network's name as the network mode when none is set, so every
 * network name is a mode too: a network called `host` or `container:X` is checked as such.
 */
export function enforceNamespaces(policy: Policy, spec: ContainerSpec, f: (name: string) => string, scope: NamespaceScope = {}): void {
  enforceMode(spec.networkMode, f('network'), policy.allow_host_network, 'network', scope);
  for (const net of spec.networks ?? []) {
    if (net.name === 'host' || /^(container|service):/.test(net.name)) {
      deny(f('networks'), `${f('networks')}: "${net.name}" is not a network but a namespace mode; use network_mode (policy-checked) instead`);
    }
  }
  enforceMode(spec.pidMode, f('pid'), policy.allow_host_pid, 'PID', scope);
}

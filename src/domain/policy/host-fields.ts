/**
 * Fields that reach the host other than paths and namespaces: privilege, capabilities,
 * devices, a working directory under /proc, log drivers, volume driver options.
 * sysctls, security_opt, cgroup_parent, device cgroup rules and masked/readonly paths are
 * not in ContainerSpec: no schema accepts them, so they cannot be asked for (tests prove it).
 */
import { BosunError } from '../errors.js';
import type { ContainerSpec } from '../../domain/engine/index.js';
import { isWithin } from './host-paths.js';
import type { Policy } from './schema.js';

function deny(field: string, message: string): never {
  throw new BosunError('policy_denied', message, { field, retryable: false });
}

const capName = (c: string) => c.toUpperCase().replace(/^CAP_/, '');

export function enforceHostFields(policy: Policy, spec: ContainerSpec, f: (name: string) => string): void {
  if (spec.privileged && !policy.allow_privileged) deny(f('privileged'), 'privileged containers are not allowed by policy');
  const allowedCaps = policy.allowed_capabilities.map(capName);
  for (const cap of spec.capAdd ?? []) {
    if (!allowedCaps.includes(capName(cap))) deny(f('cap_add'), `capability ${cap} is not allowed by policy`);
  }
  if ((spec.devices?.length ?? 0) > 0 && !policy.allow_devices) deny(f('devices'), 'host devices are not allowed by policy');
  // runc resolves the working directory before the container's /proc is its own (CVE-2024-21626).
  if (spec.workingDir !== undefined && isWithin(spec.workingDir.replace(/^\/*/, '/'), '/proc')) {
    deny(f('working_dir'), `working_dir "${spec.workingDir}" is under /proc, which is not allowed`);
  }
}

/** A log driver (Compose `logging.driver`): only the ones the policy lists (drivers with addresses reach the network from the daemon). */
export function enforceLogDriver(policy: Policy, driver: string | undefined, field: string): void {
  if (driver !== undefined && !policy.allowed_log_drivers.includes(driver)) {
    deny(field, `${field}: log driver "${driver}" is not allowed by policy (allowed_log_drivers: ${policy.allowed_log_drivers.join(', ') || 'none'})`);
  }
}

/** Volume driver options can mount host paths or remote filesystems (local driver, o=bind, device=/etc). */
export function enforceVolumeDriverOpts(policy: Policy, opts: Record<string, unknown> | undefined, field: string): void {
  if (!opts || Object.keys(opts).length === 0) return;
  if (!policy.allow_volume_driver_opts) deny(field, `${field}: volume driver_opts are not allowed by policy (they can mount host paths)`);
  throw new BosunError('invalid_message', `${field}: volume driver_opts are not supported by bosun; create the volume yourself and mark it external`, { field, retryable: false });
}

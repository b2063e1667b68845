/**
 * Podman's Docker-compatible API (podman system service, tested on Debian 12's 4.3), mapped
 * to what Docker answers, so callers see one behaviour:
 * - image names: Podman qualifies short names (localhost/x:1 for a loaded or committed
 *   image, docker.io/library/x:1 for a built one); bosun's callers use Docker's short form.
 * - states: libpod's `stopped` (exited, cleanup pending), `stopping`, `configured` and
 *   `initialized` are Docker's exited, running, created, created.
 * - wait: Podman answers once the process exited (state `stopped`), before conmon has written
 *   the last output to the log; wait goes on until the state is `exited` (cleanup done), so
 *   logs read after wait are complete (seen: 3978 of 5000 bytes under load).
 * - details: a stop signal by number ("9"), NanoCpus as CFS period 100000 + quota: read back
 *   as Docker reports them (SIGKILL, nanoCpus), else every stack `up` sees drift and recreates.
 * - events: a removed container's event is `remove` (Docker: `destroy`), an exec's end
 *   `exec_died` (`exec_die`); `since` is read to the second (the adapter drops what is at or
 *   before the resume point); Podman's own `init` and `cleanup` are dropped.
 * - in-place update: 4.3 applies new limits to the live cgroup but keeps the old ones in its
 *   config (inspect shows them, a restart restores them) and cannot change a restart policy,
 *   so it is refused rather than half done.
 */
import type { ContainerDetails, ContainerStatus } from '../../domain/engine/index.js';
import type { FlavourRules } from './flavour.js';

const QUALIFIED = /^(?:localhost|docker\.io\/library|docker\.io)\//;

/** Docker's short form of a Podman-qualified image name. */
export function shortImageName(ref: string): string {
  return ref.replace(QUALIFIED, '');
}

/** libpod's own states: stopped is exited before its cleanup ran; stopping still runs. */
const PODMAN_STATES: Record<string, ContainerStatus> = { stopped: 'exited', stopping: 'running', configured: 'created', initialized: 'created' };
const PODMAN_ACTIONS: Record<string, string> = { remove: 'destroy', died: 'die', exec_died: 'exec_die' };
/** Podman's own steps around start and exit: Docker has no such events, bosun's readers none. */
const PODMAN_ONLY = new Set(['init', 'cleanup']);

const SIGNALS: Record<string, string> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 6: 'SIGABRT', 9: 'SIGKILL', 10: 'SIGUSR1', 12: 'SIGUSR2', 15: 'SIGTERM', 28: 'SIGWINCH' };
const CFS_PERIOD = 100_000;

/** Podman reports a stop signal by number, and NanoCpus also as the CFS period/quota it derived. */
export function podmanDetails(d: ContainerDetails): ContainerDetails {
  const out = { ...d, resources: { ...d.resources } };
  if (d.stopSignal && SIGNALS[d.stopSignal]) out.stopSignal = SIGNALS[d.stopSignal];
  const { cpuPeriod, cpuQuota, nanoCpus } = d.resources;
  if (cpuPeriod === CFS_PERIOD && cpuQuota && cpuQuota > 0) {
    const derived = Math.round((cpuQuota * 1e9) / cpuPeriod);
    // Podman reports NanoCpus and the period/quota it derived from them (or only the latter).
    if (!nanoCpus || nanoCpus === derived) {
      out.resources.nanoCpus = derived;
      delete out.resources.cpuPeriod;
      delete out.resources.cpuQuota;
    }
  }
  return out;
}

export const PODMAN_RULES: FlavourRules = {
  flavour: 'podman',
  imageName: shortImageName,
  containerStatus: (raw) => PODMAN_STATES[raw],
  unsettled: new Set(['stopped', 'stopping']),
  details: podmanDetails,
  containerAction: (action) => (PODMAN_ONLY.has(action) ? undefined : (PODMAN_ACTIONS[action] ?? action)),
  inPlaceUpdateUnsupported: 'Podman 4.3 cannot change limits or restart policy of a container in place (recreate it)',
};

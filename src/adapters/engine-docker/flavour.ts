/**
 * Which engine answers on the Docker API: Docker itself, or Podman's compatible service.
 * Detected once from /version (Podman names a "Podman Engine" component); the adapter keeps
 * one set of rules per flavour for what the two do differently (see podman.ts).
 */
import type { ContainerDetails, ContainerStatus } from '../../domain/engine/index.js';

export type EngineFlavour = 'docker' | 'podman';

interface VersionBody {
  Components?: { Name?: string }[] | null;
}

export function flavourOfVersion(v: VersionBody): EngineFlavour {
  return (v.Components ?? []).some((c) => /podman/i.test(c.Name ?? '')) ? 'podman' : 'docker';
}

/** What a flavour names or does differently from Docker, as pure functions. */
export interface FlavourRules {
  readonly flavour: EngineFlavour;
  /** An image name as Docker would write it (containers, summaries, tags, events). */
  imageName(ref: string): string;
  /** Container details as Docker would report them (signal names, CPU limits). */
  details?(d: ContainerDetails): ContainerDetails;
  /** A state Docker does not have, under Docker's name (undefined: Docker's own, or unknown). */
  containerStatus(raw: string): ContainerStatus | undefined;
  /** A container event's action under Docker's name; undefined for one Docker does not send. */
  containerAction(action: string): string | undefined;
  /** Raw states of an exited container whose output may still be being written (its logs are complete once it leaves them). */
  readonly unsettled?: ReadonlySet<string>;
  /** undefined: the engine changes limits and restart policy in place; otherwise why it cannot. */
  inPlaceUpdateUnsupported?: string;
}

export const DOCKER_RULES: FlavourRules = {
  flavour: 'docker',
  imageName: (ref) => ref,
  containerStatus: () => undefined,
  containerAction: (action) => action,
};

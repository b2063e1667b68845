/** Applies a flavour's naming rules to what the Docker adapter read (pure). */
import type Docker from 'dockerode';
import type { ContainerDetails, ContainerSummary, ImageDetails } from '../../domain/engine/index.js';
import { engineError } from './errors.js';
import { DOCKER_RULES, flavourOfVersion, type EngineFlavour, type FlavourRules } from './flavour.js';
import { PODMAN_RULES } from './podman.js';

export function flavouredImage(r: FlavourRules, i: ImageDetails): ImageDetails {
  return { ...i, tags: [...new Set(i.tags.map(r.imageName))] };
}

/** `rawStatus`: the engine's own word for the state, before mapping.ts read it. */
export function flavouredDetails(r: FlavourRules, d: ContainerDetails, rawStatus: string): ContainerDetails {
  const status = r.containerStatus(rawStatus);
  const out = { ...d, image: r.imageName(d.image), ...(status ? { state: { ...d.state, status } } : {}) };
  return r.details ? r.details(out) : out;
}

export function flavouredSummary(r: FlavourRules, s: ContainerSummary, rawStatus: string): ContainerSummary {
  const status = r.containerStatus(rawStatus);
  return { ...s, image: r.imageName(s.image), ...(status ? { status } : {}) };
}

/** The engine's flavour rules: given, or asked of /version once (again after a failure). */
export type RulesSource = () => Promise<FlavourRules>;

export function rulesSource(docker: Docker, given: EngineFlavour | undefined): RulesSource {
  let p: Promise<FlavourRules> | undefined = given ? Promise.resolve(rulesFor(given)) : undefined;
  return () => {
    p ??= docker.version().then((v) => rulesFor(flavourOfVersion(v)), (e: unknown) => {
      p = undefined;
      throw engineError(e, 'engine version');
    });
    return p;
  };
}

export function rulesFor(flavour: EngineFlavour): FlavourRules {
  return flavour === 'podman' ? PODMAN_RULES : DOCKER_RULES;
}

/** Waits (polling, bounded) while the container is in one of the flavour's unsettled states. */
export async function untilSettled(r: FlavourRules, rawStatus: () => Promise<string>, signal: AbortSignal | undefined, limitMs = 10_000): Promise<void> {
  if (!r.unsettled) return;
  const deadline = Date.now() + limitMs;
  try {
    while (r.unsettled.has(await rawStatus()) && Date.now() < deadline && !signal?.aborted) await new Promise((res) => setTimeout(res, 25));
  } catch {
    // removed meanwhile (auto-remove): nothing is left to settle
  }
}

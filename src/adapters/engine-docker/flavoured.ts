/** Applies a flavour's naming rules to what the Docker adapter read (pure). */
import type { ContainerDetails, ContainerSummary, EngineEvent, ImageDetails } from '../../ports/engine.js';
import { DOCKER_RULES, type EngineFlavour, type FlavourRules } from './flavour.js';
import { PODMAN_RULES } from './podman.js';

export function flavouredImage(r: FlavourRules, i: ImageDetails): ImageDetails {
  return { ...i, tags: [...new Set(i.tags.map(r.imageName))] };
}

/** `rawStatus`: the engine's own word for the state, before mapping.ts read it. */
export function flavouredDetails(r: FlavourRules, d: ContainerDetails, rawStatus: string): ContainerDetails {
  const status = r.containerStatus(rawStatus);
  return { ...d, image: r.imageName(d.image), ...(status ? { state: { ...d.state, status } } : {}) };
}

export function flavouredSummary(r: FlavourRules, s: ContainerSummary, rawStatus: string): ContainerSummary {
  const status = r.containerStatus(rawStatus);
  return { ...s, image: r.imageName(s.image), ...(status ? { status } : {}) };
}

/** undefined: an event Docker would not have sent. */
export function flavouredEvent(r: FlavourRules, ev: EngineEvent): EngineEvent | undefined {
  if (ev.type !== 'container') return ev;
  const action = r.containerAction(ev.action);
  if (action === undefined) return undefined;
  const image = ev.attributes.image;
  return { ...ev, action, attributes: image ? { ...ev.attributes, image: r.imageName(image) } : ev.attributes };
}

export function rulesFor(flavour: EngineFlavour): FlavourRules {
  return flavour === 'podman' ? PODMAN_RULES : DOCKER_RULES;
}

/**
 * A stable hash of the parts of a container spec that can only change by recreating the
 * container. Limits, restart policy and networks are left out: they change in place.
 * Pure (FNV-1a over a canonical JSON), so the planner needs no node:crypto.
 */
import type { ContainerSpec } from '../../domain/engine/index.js';
import { LABEL } from '../../domain/labels.js';

export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** 64-bit FNV-1a as 16 hex digits. */
export function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * prime) & mask;
  }
  return h.toString(16).padStart(16, '0');
}

export function specHash(spec: ContainerSpec): string {
  const { resources, restartPolicy, networks, labels, ...rest } = spec;
  void resources; void restartPolicy; void networks;
  const ownLabels = { ...(labels ?? {}) };
  delete ownLabels[LABEL.specHash];
  return fnv1a64(canonicalJson({ ...rest, labels: ownLabels }));
}

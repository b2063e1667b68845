/**
 * A small client of the cluster server's REST API (GET and PUT /services/:name), for callers
 * in other processes (workflow tasks). Failures are sorted by what the caller can do about
 * them: `unavailable` (no answer, 5xx — try again later), `refused` (4xx — the request is
 * wrong or not allowed; the server's message and field), `not_found`.
 */
import type { Constraint, ContainerTemplate } from '../domain/cluster.js';

export interface ClusterEndpoint {
  url: string;
  token?: string;
}

export interface ServiceAssignmentView {
  name: string;
  slot: number;
  generation: number;
  node: string;
  desired: string;
  state: string;
  specVersion: number;
  reason?: string;
}

/** GET /services/:name, as the server's serviceView writes it (the fields callers read). */
export interface ServiceView {
  name: string;
  replicas: number;
  version: number;
  deleted: boolean;
  container: ContainerTemplate;
  constraints: Constraint[];
  assignments: ServiceAssignmentView[];
}

export interface ServicePut {
  replicas: number;
  container: ContainerTemplate;
  constraints?: Constraint[];
}

export type ClusterFailure = 'unavailable' | 'refused' | 'not_found';

export class ClusterApiError extends Error {
  constructor(readonly kind: ClusterFailure, message: string, readonly status?: number, readonly code?: string, readonly field?: string) {
    super(message);
    this.name = 'ClusterApiError';
  }
}

export const isClusterApiError = (e: unknown): e is ClusterApiError => e instanceof ClusterApiError;

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

interface ErrorBody { error?: { code?: string; message?: string; field?: string } }

export class ClusterApiClient {
  private readonly base: string;
  constructor(private readonly endpoint: ClusterEndpoint, private readonly requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS) {
    this.base = endpoint.url.replace(/\/+$/, '');
  }

  /** The service, or undefined when the server has none of that name (or it was deleted). */
  async getService(name: string, signal: AbortSignal): Promise<ServiceView | undefined> {
    try {
      const v = await this.request<ServiceView>('GET', `/services/${encodeURIComponent(name)}`, undefined, signal);
      return v.json.deleted ? undefined : v.json;
    } catch (e) {
      if (isClusterApiError(e) && e.kind === 'not_found') return undefined;
      throw e;
    }
  }

  /** Creates (201) or replaces (200) the service's spec. */
  async putService(name: string, body: ServicePut, signal: AbortSignal): Promise<{ view: ServiceView; created: boolean }> {
    const r = await this.request<ServiceView>('PUT', `/services/${encodeURIComponent(name)}`, body, signal);
    return { view: r.json, created: r.status === 201 };
  }

  private async request<T>(method: string, path: string, body: unknown, signal: AbortSignal): Promise<{ status: number; json: T }> {
    const where = `${method} ${this.base}${path}`;
    const headers: Record<string, string> = {
      ...(this.endpoint.token ? { authorization: `Bearer ${this.endpoint.token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    };
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.base}${path}`, {
        method, headers, signal: AbortSignal.any([signal, AbortSignal.timeout(this.requestTimeoutMs)]),
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      text = await res.text();
    } catch (e) {
      if (signal.aborted) throw e;
      const reason = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new ClusterApiError('unavailable', `${where}: no answer (${reason?.code ?? reason?.message ?? (e instanceof Error ? e.message : String(e))})`);
    }
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.ok) {
      if (json === undefined) throw new ClusterApiError('unavailable', `${where}: ${res.status} with a body that is not JSON`, res.status);
      return { status: res.status, json: json as T };
    }
    const err = (json as ErrorBody | undefined)?.error;
    const message = `${where}: ${res.status}${err?.code ? ` ${err.code}` : ''}: ${err?.message ?? (text.slice(0, 200) || res.statusText)}`;
    const kind: ClusterFailure = res.status >= 500 || res.status === 429 ? 'unavailable' : res.status === 404 ? 'not_found' : 'refused';
    throw new ClusterApiError(kind, message, res.status, err?.code, err?.field);
  }
}

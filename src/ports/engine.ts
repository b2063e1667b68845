/**
 * ContainerEngine: the port through which bosun talks to a container engine (Docker, Podman, the
 * in-memory fake) — a facade of one small interface per resource. Data types are bosun's own
 * (src/domain/engine); no SDK type crosses this border. Engines are built by createEngine().
 *
 * Contract (test/contracts/engine.contract.ts, run on every adapter):
 * - stop of a stopped container and remove of a missing one succeed (safe to repeat);
 * - "not there" is `undefined` from inspect, never an exception;
 * - failures throw BosunError with codes: not_found, image_not_found, conflict,
 *   engine_unavailable, build_failed, pull_failed, engine_error, timeout;
 * - every call takes `signal` and `timeoutMs` (CallOptions); either ends it with `timeout`.
 */
import type {
  AttachRequest, BuildRequest, BuildResult, CallOptions, CapturedOutput, ContainerDetails, ContainerSpec, ContainerSummary, EngineEvent,
  EngineCapabilities, EngineInfo, EventsRequest, ExecRequest, ExecResult, ImageDetails, PreparedExec, ListFilter, LogsRequest, NetworkSpec, ProcessEntry, PullRequest,
  ResourceLimits, RestartPolicy, VolumeDetails,
} from '../domain/engine/index.js';

export interface ContainersApi {
  create(spec: ContainerSpec, o?: CallOptions): Promise<{ id: string }>;
  start(idOrName: string, o?: CallOptions): Promise<void>;
  /** Succeeds on an already stopped container. */
  stop(idOrName: string, o?: { timeoutSec?: number } & CallOptions): Promise<void>;
  kill(idOrName: string, signal?: string, o?: CallOptions): Promise<void>;
  restart(idOrName: string, o?: { timeoutSec?: number } & CallOptions): Promise<void>;
  /** Succeeds on a missing container. */
  remove(idOrName: string, o?: { force?: boolean; volumes?: boolean } & CallOptions): Promise<void>;
  /** Resolves with the exit code once the container is not running (no default timeout). */
  wait(idOrName: string, o?: CallOptions): Promise<{ exitCode: number }>;
  inspect(idOrName: string, o?: CallOptions): Promise<ContainerDetails | undefined>;
  list(filter?: ListFilter, o?: CallOptions): Promise<ContainerSummary[]>;
  /** Changes limits / restart policy of a live container without recreating it. */
  update(idOrName: string, update: { resources?: ResourceLimits; restartPolicy?: RestartPolicy }, o?: CallOptions): Promise<void>;
  rename(idOrName: string, newName: string, o?: CallOptions): Promise<void>;
  logs(idOrName: string, req?: LogsRequest): Promise<CapturedOutput>;
  /**
   * Attaches to stdout/stderr (call before start to see everything); resolves once attached.
   * `output` resolves when the container's streams close, or once past `stopAfterBytes`.
   */
  attach(idOrName: string, req?: AttachRequest): Promise<{ output: Promise<CapturedOutput> }>;
  top(idOrName: string, o?: CallOptions): Promise<ProcessEntry[]>;
}

export interface ImagesApi {
  /** undefined when the engine has no such image. */
  inspect(ref: string, o?: CallOptions): Promise<ImageDetails | undefined>;
  pull(req: PullRequest): Promise<ImageDetails>;
  build(req: BuildRequest): Promise<BuildResult>;
  remove(ref: string, o?: { force?: boolean } & CallOptions): Promise<void>;
}

export interface NetworksApi {
  /** Creates the network if absent; returns its id. */
  ensure(spec: NetworkSpec, o?: CallOptions): Promise<string>;
  remove(name: string, o?: CallOptions): Promise<void>;
  connect(network: string, container: string, o?: { aliases?: string[] } & CallOptions): Promise<void>;
  disconnect(network: string, container: string, o?: { force?: boolean } & CallOptions): Promise<void>;
}

export interface VolumesApi {
  /** Creates the volume unless it exists; says which. */
  ensure(name: string, labels?: Record<string, string>, o?: CallOptions): Promise<{ created: boolean }>;
  remove(name: string, o?: CallOptions): Promise<void>;
  /** undefined when there is no such volume. */
  inspect(name: string, o?: CallOptions): Promise<VolumeDetails | undefined>;
}

export interface ExecApi {
  /** Runs a command in a running container and collects its output and exit code. */
  run(idOrName: string, req: ExecRequest): Promise<ExecResult>;
  /**
   * Makes the exec without starting it, so that its set-up can go beside another call (the warm
   * claim's rename); `run(idOrName, { ...req, prepared })` then starts it. Refused as `run` is when
   * the container does not run. An exec never started goes with its container.
   */
  prepare(idOrName: string, req: ExecRequest): Promise<PreparedExec>;
}

export interface EventsApi {
  /** Live event stream; ends when `signal` aborts, throws engine_unavailable if the stream breaks. */
  stream(req: EventsRequest): AsyncIterable<EngineEvent>;
}

export interface ContainerEngine {
  info(o?: CallOptions): Promise<EngineInfo>;
  /** Fixed for the engine's life: cheap to ask on every stack action (no round trip once known). */
  capabilities(o?: CallOptions): Promise<EngineCapabilities>;
  readonly containers: ContainersApi;
  readonly images: ImagesApi;
  readonly networks: NetworksApi;
  readonly volumes: VolumesApi;
  readonly exec: ExecApi;
  readonly events: EventsApi;
}

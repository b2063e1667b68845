/**
 * Every label bosun puts on Docker objects, in one place.
 * Docker is the source of truth for containers; these labels tie each container
 * to the request, stack or service that made it.
 */
export const LABEL = {
  managed: 'bosun.managed',
  /** Request id of the message that created the container (idempotency on redelivery). */
  request: 'bosun.request',
  channel: 'bosun.channel',
  stack: 'bosun.stack',
  service: 'bosun.service',
  instance: 'bosun.instance',
  specHash: 'bosun.spec-hash',
  /** Cluster: assignment generation, used to fence stale replicas. */
  generation: 'bosun.generation',
  node: 'bosun.node',
  replica: 'bosun.replica',
  /** The publisher (broker user id) whose message made the container, when the broker said. */
  publisher: 'bosun.publisher',
  /** "detached" or "attached": detached runs count against the running-container quotas. */
  run: 'bosun.run',
  /** Hash of the request body of a run: a redelivered copy under another request id finds its container. */
  bodyHash: 'bosun.body-hash',
  /** Cluster: the resources a replica asked for (JSON), counted against the node's free resources. */
  resources: 'bosun.resources',
  /** Warm pool containers: the pool's name, and a hash of its create-time settings (adoption after a crash). */
  pool: 'bosun.pool',
  poolKey: 'bosun.pool-key',
  /** Warm pool containers: the stable name of the agent that owns them (it adopts or removes only its own). */
  poolOwner: 'bosun.pool-owner',
  /** Workflow task containers: execution id, state name, attempt and task token (adoption after a crash). */
  wfExecution: 'bosun.wf.execution',
  wfState: 'bosun.wf.state',
  wfAttempt: 'bosun.wf.attempt',
  wfToken: 'bosun.wf.token',
  /** Set by tests so they can find and remove only what they made. */
  test: 'bosun.test',
} as const;

/** Every label key above starts with it; publishers may not set such keys (but `LABEL.test`). */
export const LABEL_PREFIX = 'bosun.';

export type LabelKey = (typeof LABEL)[keyof typeof LABEL];

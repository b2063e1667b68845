/**
 * Seed 000's run message, field for field, plus what a serious run needs (labels, ports,
 * limits, timeout). Unknown fields are errors: a misspelled "comand" must not be ignored.
 */
import { z } from 'zod';
import {
  CONTAINER_NAME_MAX, CONTAINER_NAME_RE, CONTAINER_REF_HINT, IMAGE_RE, IMAGE_REF_HINT, REPLY_CHANNEL_HINT, REPLY_CHANNEL_RE, REQUEST_ID_HINT, REQUEST_ID_RE,
  SHORT_STRING_MAX_BYTES, byteLength, isImageRef,
} from '../../domain/references.js';

/** Largest `stdin` of a run message (UTF-8 bytes); binary data goes base64-encoded (decode it in the container). */
export const STDIN_MAX_BYTES = 256 * 1024;
/** Text written to the run's stdin, which is then closed. */
export const stdinField = z.string().refine((s) => byteLength(s) <= STDIN_MAX_BYTES, { message: `expected at most ${STDIN_MAX_BYTES} bytes of UTF-8 text (send binary data base64-encoded)` });

/** A name for a container this message creates (Docker's grammar). */
export const containerName = z.string().max(CONTAINER_NAME_MAX).regex(CONTAINER_NAME_RE, 'a container name: letters, digits, _ . - (not starting with a symbol)');
/** Prefixes of the names bosun gives its own containers (workflow tasks, claimed and idle warm members). */
export const RESERVED_NAME_PREFIXES = ['bosun-wf-', 'bosun-warm-', 'bosun-pool-'] as const;
/** The name of a container a run creates: a message may not take a name bosun keeps for its own (it could block a task or a claim). */
export const newContainerName = containerName.refine((n) => !RESERVED_NAME_PREFIXES.some((p) => n.startsWith(p)), {
  message: `a container name not starting with ${RESERVED_NAME_PREFIXES.join(', ')} (bosun names its own containers so)`,
});
/** A container this message names: a name or an id (ids match the name grammar). */
export const containerRef = z.string().max(CONTAINER_NAME_MAX).regex(CONTAINER_NAME_RE, `expected ${CONTAINER_REF_HINT}`);
export const imageRef = z.string().max(512).regex(IMAGE_RE, `expected ${IMAGE_REF_HINT}`).refine(isImageRef, { message: `expected ${IMAGE_REF_HINT} (name part at most 255)` });
const shortString = (s: string) => byteLength(s) <= SHORT_STRING_MAX_BYTES;
/** Both become AMQP short strings (message id, queue name): 255 bytes at most, or the reply could never be published. */
export const requestIdField = z.string().max(SHORT_STRING_MAX_BYTES).regex(REQUEST_ID_RE, `expected ${REQUEST_ID_HINT}`).refine(shortString, { message: `expected ${REQUEST_ID_HINT}` });
export const responseChannelField = z.string().max(SHORT_STRING_MAX_BYTES).regex(REPLY_CHANNEL_RE, `expected ${REPLY_CHANNEL_HINT}`).refine(shortString, { message: `expected ${REPLY_CHANNEL_HINT}` });

/** `"python hello.py"` (split like a shell word list) or `["python","hello.py"]`. */
export const commandField = z.union([z.string().min(1), z.array(z.string()).min(1)]);

export const volumesField = z.record(
  z.string().min(1),
  z.strictObject({
    bind: z.string().min(1).startsWith('/', 'bind must be an absolute path inside the container'),
    mode: z.enum(['rw', 'ro']).default('rw'),
  }),
);

/** Seed 000 sends a list of "K=V"; an object {K: V} is accepted too. */
export const environmentField = z.union([
  z.array(z.string().regex(/^[^=\s]+=/, 'entries must look like KEY=value')),
  z.record(z.string().regex(/^[^=\s]+$/), z.union([z.string(), z.number(), z.boolean()])),
]);

export const portsField = z.record(
  z.string().regex(/^\d+(\/(tcp|udp|sctp))?$/, 'container port like "80" or "80/tcp"'),
  z.union([z.number().int().min(0).max(65535), z.string().regex(/^([\d.]+:)?\d*$/, '"hostPort" or "hostIp:hostPort"')]),
);

export const resourcesField = z.strictObject({
  memory: z.union([z.number().int().positive(), z.string().regex(/^\d+(\.\d+)?[kmg]?b?$/i, 'bytes or "256m"')]).optional(),
  cpus: z.number().positive().max(1024).optional(),
  cpu_shares: z.number().int().positive().optional(),
  pids_limit: z.number().int().positive().optional(),
});

export const restartPolicyField = z.union([
  z.enum(['no', 'always', 'unless-stopped', 'on-failure']),
  z.strictObject({ name: z.enum(['no', 'always', 'unless-stopped', 'on-failure']), maximum_retry_count: z.number().int().min(0).optional() }),
]);

/** missing (default): pull only when absent; always; never. `true`/`false` = always/missing (seed 000's flag). */
export const pullField = z.union([z.enum(['missing', 'always', 'never']), z.boolean()]);

export const runFields = {
  request_id: requestIdField.optional(),
  image: imageRef,
  name: newContainerName.optional(),
  command: commandField.optional(),
  entrypoint: commandField.optional(),
  network: z.string().min(1).optional(),
  volumes: volumesField.optional(),
  environment: environmentField.optional(),
  build: z.boolean().default(false),
  context: z.string().min(1).default('./'),
  dockerfile: z.string().min(1).optional(),
  build_args: z.record(z.string(), z.string()).optional(),
  pull: pullField.default('missing'),
  labels: z.record(z.string(), z.string()).optional(),
  ports: portsField.optional(),
  restart_policy: restartPolicyField.optional(),
  resources: resourcesField.optional(),
  working_dir: z.string().optional(),
  user: z.string().optional(),
  privileged: z.boolean().optional(),
  cap_add: z.array(z.string()).optional(),
  devices: z.array(z.string()).optional(),
  /** OCI runtime registered with the daemon (e.g. crun); allowed by the policy's allowed_runtimes. */
  runtime: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'a runtime name registered with the daemon').optional(),
  /** Seconds a run may take before it is stopped and reported as a timeout. */
  timeout: z.number().positive().optional(),
};

export const createRunSchema = z.strictObject({
  ...runFields,
  /** Optional: where to announce the created container (seed 000 sends nothing for create). */
  response_channel: responseChannelField.optional(),
});

export const attachedRunSchema = z.strictObject({
  ...runFields,
  response_channel: responseChannelField,
  /** "raw": publish stdout alone, as seed 000 did, for chaining runs. */
  response_format: z.enum(['envelope', 'raw']).default('envelope'),
  /** Use a warm pool (default: when one matches); true asks for one (cold, with a notice, when none matches), false never. */
  warm: z.boolean().optional(),
  /** Remove the container once the reply is safely out (default true: a function run leaves nothing behind). */
  remove: z.boolean().default(true),
  /** Publish stdout/stderr as {request_id, seq, stream, data} chunks on the reply path while the run goes on. */
  stream: z.boolean().default(false),
  stdin: stdinField.optional(),
}).superRefine((v, ctx) => {
  // A raw reply is the bare stdout a next run consumes: chunks on that channel would be read as its input.
  if (v.stream && v.response_format === 'raw') ctx.addIssue({ code: 'custom', path: ['stream'], message: 'stream: true needs response_format "envelope" (a raw reply is the bare stdout, for chaining)' });
});

export type CreateRunInput = z.infer<typeof createRunSchema>;
export type AttachedRunInput = z.infer<typeof attachedRunSchema>;
export type RunInput = CreateRunInput | AttachedRunInput;

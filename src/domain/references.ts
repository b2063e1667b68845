/**
 * Pure: the grammars of what a message may name on the engine — container names, container
 * ids and image references (Docker's distribution reference grammar) — and of broker names
 * a reply is published to. Every schema that takes one uses these, so a name like "x/.."
 * (which the engine API turns into a redirect to another path) is refused at the border.
 */

/** Docker's container-name grammar (daemon/names.go), a single character allowed. */
export const CONTAINER_NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** A container id or its unique prefix, as `docker ps` prints it. */
export const CONTAINER_ID_RE = /^[a-f0-9]{12,64}$/;
export const CONTAINER_NAME_MAX = 128;

// distribution/reference regexp.go, spelled out.
const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const host = `(?:${domainComponent}(?:\\.${domainComponent})*|${ipv6})`;
const domain = `${host}(?::[0-9]+)?`;
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const name = `(?:${domain}/)?${pathComponent}(?:/${pathComponent})*`;

export const IMAGE_REFERENCE_RE = new RegExp(`^(${name})(?::${tag})?(?:@${digest})?$`);
/** An image id: 12–64 hex, optionally `sha256:`-prefixed. */
export const IMAGE_ID_RE = /^(?:sha256:)?[a-f0-9]{12,64}$/;
/** Either, as one pattern (for the published JSON Schemas). */
export const IMAGE_RE = new RegExp(`^(?:(?:sha256:)?[a-f0-9]{12,64}|${name}(?::${tag})?(?:@${digest})?)$`);
/** Docker limits the name part of a reference to 255 characters. */
export const IMAGE_NAME_MAX = 255;

export function isContainerRef(s: string): boolean {
  return s.length <= CONTAINER_NAME_MAX && (CONTAINER_NAME_RE.test(s) || CONTAINER_ID_RE.test(s));
}

export function isImageRef(s: string): boolean {
  if (IMAGE_ID_RE.test(s)) return true;
  const m = IMAGE_REFERENCE_RE.exec(s);
  return m !== null && (m[1] ?? '').length <= IMAGE_NAME_MAX;
}

/** AMQP short strings (queue names, message ids, reply_to) hold at most 255 bytes. */
export const SHORT_STRING_MAX_BYTES = 255;

export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * A channel a reply may be declared and published to: ≤ 255 bytes, no whitespace or control
 * characters, not `amq.`-prefixed (RabbitMQ refuses to declare those: the publish would fail
 * on every redelivery). The same rule holds for Redis, so a message means the same on both.
 */
export const REPLY_CHANNEL_RE = /^(?!amq\.)[^\s\p{Cc}]+$/u;

export function isReplyChannel(s: string): boolean {
  return byteLength(s) <= SHORT_STRING_MAX_BYTES && REPLY_CHANNEL_RE.test(s);
}

export const REQUEST_ID_RE = /^[^\p{Cc}]+$/u;

/** A request id: it becomes the reply's message id (an AMQP short string) and a label value. */
export function isRequestId(s: string): boolean {
  return byteLength(s) <= SHORT_STRING_MAX_BYTES && REQUEST_ID_RE.test(s);
}

export const CONTAINER_REF_HINT = 'a container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128) or id (12–64 hex)';
export const IMAGE_REF_HINT = 'an image reference [registry[:port]/]path[:tag][@digest] (lowercase path components) or an image id';
export const REPLY_CHANNEL_HINT = 'a channel name of 1–255 bytes without spaces or control characters, not starting with "amq."';
export const REQUEST_ID_HINT = 'a request id of 1–255 bytes without control characters';

/**
 * Every name that goes into an engine API path passes through here. dockerode pastes names
 * into the URL unencoded, and the daemon answers a path with `.`/`..`/empty segments with a
 * 301 redirect that docker-modem follows as a plain HTTP request to a host named after a path
 * segment — whose socket error was an unhandled 'error' event that killed the process.
 * Encoding alone is not enough (the daemon decodes %2F before cleaning the path), so such
 * names are refused here, and the rest are percent-encoded so they stay one segment.
 */
import { BosunError } from '../../domain/errors.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export function apiSegment(ref: string, what: string): string {
  const pieces = ref.split('/');
  const leadingSlash = ref.startsWith('/') && pieces.length > 1;
  const rest = leadingSlash ? pieces.slice(1) : pieces;
  if (!ref || CONTROL.test(ref) || rest.some((p) => p === '' || p === '.' || p === '..')) {
    throw new BosunError('invalid_message', `${what} ${JSON.stringify(ref.slice(0, 200))} is not a valid engine reference (empty, "." or ".." path segment, or a control character)`, {
      retryable: false,
    });
  }
  // A leading '/' (Docker's own spelling of names) would become an empty segment once decoded.
  return encodeURIComponent(rest.join('/'));
}

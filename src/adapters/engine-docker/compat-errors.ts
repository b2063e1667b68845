/**
 * Engine answers that mean "already so", in Docker's and in Podman's words (Podman answers
 * most of them with 500 and its own message, where Docker uses 304/409/403).
 */
import { messageOf, statusOf } from './errors.js';

/** kill of a container that is not running. Docker: 409 "is not running"; Podman: 500 "container state improper". */
export function isNotRunning(e: unknown): boolean {
  const s = statusOf(e);
  return (s === 409 || s === 500) && /is not running|can only kill running containers|container state improper/i.test(messageOf(e));
}

/** create with a name another container has. Docker: 409; Podman: 500 "that name is already in use". */
export function isNameInUse(e: unknown): boolean {
  return statusOf(e) === 500 && /name .* is already in use|that name is already in use/i.test(messageOf(e));
}

/** connect of a container already on the network. Docker: 403 "already exists"; Podman: 500 "already connected". */
export function isAlreadyConnected(e: unknown): boolean {
  const s = statusOf(e);
  return (s === 403 && /already exists/i.test(messageOf(e))) || (s === 500 && /already connected/i.test(messageOf(e)));
}

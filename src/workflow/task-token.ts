/**
 * Public task tokens: `<executionId>.<task token>.<mac>`. The mac is an HMAC-SHA256 of the
 * execution id and the machine's task token under a key made for each execution at its start
 * (kept in the store with the execution's Started event and state, never sent out). So a token
 * names its execution and task, cannot be guessed or altered, and one task's token says nothing
 * about another's. Deterministic, so the pure machine can put it in `$$.Task.Token`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes, base64url: one per execution (startExecution makes it). */
export function newTaskTokenKey(): string {
  return randomBytes(32).toString('base64url');
}

const MAC_CHARS = 32; // 192 bits of the base64url HMAC

function macOf(key: string, executionId: string, token: string): string {
  return createHmac('sha256', Buffer.from(key, 'base64url')).update(`${executionId}\n${token}`).digest('base64url').slice(0, MAC_CHARS);
}

export function encodeTaskToken(key: string, executionId: string, token: string): string {
  return `${executionId}.${token}.${macOf(key, executionId, token)}`;
}

export interface ParsedTaskToken {
  executionId: string;
  token: string;
  mac: string;
}

/** Splits a public token (from the right: execution ids may hold dots); undefined when it has not the shape. */
export function parseTaskToken(publicToken: string): ParsedTaskToken | undefined {
  const m = /^(.+)\.([a-z]\d+)\.([A-Za-z0-9_-]+)$/.exec(publicToken);
  if (!m || m[3]!.length !== MAC_CHARS) return undefined;
  return { executionId: m[1]!, token: m[2]!, mac: m[3]! };
}

/** True when the token's mac is the one this execution's key gives (compared in constant time). */
export function verifyTaskToken(key: string, parsed: ParsedTaskToken): boolean {
  const want = Buffer.from(macOf(key, parsed.executionId, parsed.token));
  const got = Buffer.from(parsed.mac);
  return want.length === got.length && timingSafeEqual(want, got);
}

/**
 * Message bodies: strict JSON first, then JSON5 (the seed READMEs' single quotes and unquoted
 * keys) for bodies up to json5MaxBytes only — JSON5's parser takes seconds on megabytes.
 */
import JSON5 from 'json5';
import { BosunError } from '../domain/errors.js';
import { JSON5_MAX_BYTES } from './border.js';

export function decodeBody(body: Buffer, json5MaxBytes = JSON5_MAX_BYTES): Record<string, unknown> {
  const text = body.toString('utf8').trim();
  if (!text) throw new BosunError('bad_json', 'the message body is empty; expected a JSON object', { retryable: false });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (strict) {
    if (body.length > json5MaxBytes) {
      throw new BosunError('bad_json', `the message body is not JSON: ${(strict as Error).message} (JSON5 is accepted only up to ${json5MaxBytes} bytes)`, { retryable: false });
    }
    try {
      parsed = JSON5.parse(text);
    } catch (e) {
      throw new BosunError('bad_json', `the message body is not JSON or JSON5: ${(e as Error).message}`, { retryable: false });
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BosunError('bad_json', 'the message body must be a JSON object', { retryable: false });
  }
  return parsed as Record<string, unknown>;
}

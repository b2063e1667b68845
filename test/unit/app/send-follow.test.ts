/** `bosun send --follow`'s printer: chunks to their streams, duplicates dropped, a restream announced, the envelope and exit code. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { FollowPrinter } from '../../../src/app/send-follow.js';

function printer() {
  const out: string[] = [];
  const err: string[] = [];
  return { p: new FollowPrinter({ stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) }), out, err };
}
const chunk = (seq: number, stream: string, data: string) => JSON.stringify({ request_id: 'r', seq, stream, data });

it('prints stdout and stderr chunks apart, drops a duplicate, then the envelope without its output; exit code is the run\'s', () => {
  const { p, out, err } = printer();
  assert.equal(p.take(chunk(0, 'stdout', 'a\n')), false);
  assert.equal(p.take(chunk(1, 'stderr', 'e\n')), false);
  assert.equal(p.take(chunk(1, 'stderr', 'e\n')), false);
  assert.equal(p.take(chunk(2, 'stdout', 'b')), false);
  assert.equal(p.take(JSON.stringify({ ok: false, action: 'x', request_id: 'r', exit_code: 4, stdout: 'a\nb', streamed: { chunks: 3 } })), true);
  assert.deepEqual(out, ['a\n', 'b', '\n']);
  assert.equal(err[0], 'e\n');
  assert.deepEqual(JSON.parse(err[1]!), { ok: false, action: 'x', request_id: 'r', exit_code: 4, streamed: { chunks: 3 } });
  assert.equal(p.done, 4);
});

it('announces a restream (seq 0 again) and a truncated stream; a refused message exits 1', () => {
  const { p, err } = printer();
  p.take(chunk(0, 'stdout', 'a'));
  p.take(chunk(0, 'stdout', 'a'));
  p.take(JSON.stringify({ request_id: 'r', seq: 1, truncated: true, reason: 'total_bytes', limit_bytes: 10 }));
  p.take(JSON.stringify({ ok: false, action: 'x', request_id: 'r', error: { code: 'invalid_message' } }));
  assert.match(err.join(''), /starts again/);
  assert.match(err.join(''), /stopped at 10 bytes \(total_bytes\)/);
  assert.equal(p.done, 1);
});

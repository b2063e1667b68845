import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkBorderFields, checkSize, publisherOf, safeId } from '../../../src/pipeline/border.js';
import { ID_GENERATED_HEADER, copyOptions, idWasGenerated } from '../../../src/agent/copies.js';
import { identify } from '../../../src/pipeline/request-id.js';
import { decodeBody } from '../../../src/pipeline/decode.js';
import { errorRecord } from '../../../src/pipeline/park.js';
import { runKindOf } from '../../../src/actions/registry.js';
import { apiSegment } from '../../../src/adapters/engine-docker/paths.js';
import { BosunError, isBosunError } from '../../../src/domain/errors.js';
import { isContainerRef, isImageRef, isReplyChannel, isRequestId } from '../../../src/domain/references.js';
import type { InboundMessage } from '../../../src/ports/transport.js';

const code = (c: string, field?: string) => (e: unknown) => isBosunError(e) && e.code === c && (field === undefined || e.field === field);

function msg(body: Buffer, extra: Partial<InboundMessage> = {}): InboundMessage {
  return { channel: 'c', body, headers: {}, redelivered: false, ack: async () => undefined, nack: async () => undefined, ...extra };
}

describe('message border (pure)', () => {
  it('container names and ids follow Docker\'s grammar; dot segments and slashes are refused', () => {
    for (const ok of ['x', 'web-1', 'a.b_c', '/named', 'f'.repeat(64)]) assert.ok(isContainerRef(ok), ok);
    for (const bad of ['x/..', '..', '.', 'a/b', '', '-x', 'a b', 'x'.repeat(129), 'x\n']) assert.ok(!isContainerRef(bad), bad);
  });

  it('image references follow the distribution grammar (registry host:port, path, tag, digest) or are ids', () => {
    const ok = ['bosun-busybox', 'bosun-busybox:latest', 'library/busybox', 'registry.local:5000/team/app:1.2-rc_3', 'localhost/x@sha256:' + 'a'.repeat(64),
      '[::1]:5000/x:y', 'a__b/c--d', 'sha256:' + 'b'.repeat(64), 'c'.repeat(12)];
    for (const r of ok) assert.ok(isImageRef(r), r);
    const bad = ['a/../../b', '../x', 'a//b', 'b/A', 'x:', 'x:-tag', '/x', 'x/', 'x@sha256:short', 'a:b:c', 'x y', 'a/' + 'b'.repeat(300)];
    for (const r of bad) assert.ok(!isImageRef(r), r);
  });

  it('request ids and reply channels must fit an AMQP short string; amq.* channels cannot be declared', () => {
    assert.ok(isRequestId('r'.repeat(255)) && !isRequestId('r'.repeat(256)) && !isRequestId('é'.repeat(128)) && !isRequestId('a\u0000b'));
    assert.ok(isReplyChannel('replies.1') && !isReplyChannel('amq.x') && !isReplyChannel('a b') && !isReplyChannel('q'.repeat(256)) && !isReplyChannel(''));
    assert.throws(() => checkBorderFields({ request_id: 'x'.repeat(300) }), code('invalid_message', 'request_id'));
    assert.throws(() => checkBorderFields({ Response_Channel: 'amq.gen-x' }), code('invalid_message', 'Response_Channel'));
    assert.doesNotThrow(() => checkBorderFields({ request_id: 'ok', response_channel: 'ok', other: 'x'.repeat(1000) }));
    assert.equal(safeId('short'), 'short');
    assert.match(safeId('x'.repeat(300)), /^sha256:[0-9a-f]{64}$/);
  });

  it('oversized bodies are refused before decoding; JSON5 only below its own cap', () => {
    assert.throws(() => checkSize(Buffer.alloc(11), 10), code('message_too_large'));
    assert.doesNotThrow(() => checkSize(Buffer.alloc(10), 10));
    assert.deepEqual(decodeBody(Buffer.from("{a: 'b'}")), { a: 'b' });
    assert.throws(() => decodeBody(Buffer.from(`{a: '${'b'.repeat(100)}'}`), 64), (e: unknown) => code('bad_json')(e) && /JSON5 is accepted only up to 64/.test((e as Error).message));
  });

  it('engine API path segments: dot and empty segments refused, the rest percent-encoded into one segment', () => {
    for (const bad of ['x/..', '..', '.', 'a/../../b', 'a//b', '', '/', 'x\u0000']) assert.throws(() => apiSegment(bad, 'container'), code('invalid_message'), bad);
    assert.equal(apiSegment('registry:5000/a/b:1', 'image'), 'registry%3A5000%2Fa%2Fb%3A1');
    assert.equal(apiSegment('/named', 'container'), 'named');
    assert.equal(apiSegment('a%2F..', 'container'), 'a%252F..');
  });

  it('error records keep the body byte for byte (base64 when not UTF-8); oversized ones keep a prefix, size and hash', () => {
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x41, 0xc3]);
    const r = errorRecord(msg(binary), new BosunError('bad_json', 'x'), 'id', 0);
    assert.equal(r.body_encoding, 'base64');
    assert.deepEqual(Buffer.from(r.body, 'base64'), binary);
    const text = errorRecord(msg(Buffer.from('{"é": 1}')), new BosunError('bad_json', 'x'), 'id', 0);
    assert.deepEqual([text.body, text.body_encoding, text.body_bytes], ['{"é": 1}', 'utf8', 9]);
    const big = Buffer.alloc(100_000, 0x61);
    const o = errorRecord(msg(big), new BosunError('message_too_large', 'x'), 'id', 0);
    assert.deepEqual([o.body_truncated, o.body_bytes, Buffer.from(o.body, 'base64').length, o.body_sha256?.length], [true, 100_000, 4096, 64]);
  });

  it('the publisher header is trusted only on copies published as the agent\'s own user', () => {
    const headers = { 'x-bosun-publisher': 'ci' };
    assert.equal(publisherOf(msg(Buffer.alloc(0), { headers, userId: 'guest' }), 'guest'), 'ci');
    assert.equal(publisherOf(msg(Buffer.alloc(0), { headers, userId: 'mallory' }), 'guest'), 'mallory');
    assert.equal(publisherOf(msg(Buffer.alloc(0), { headers }), 'guest'), undefined);
    assert.equal(publisherOf(msg(Buffer.alloc(0), { headers: { 'x-bosun-publisher': '' }, userId: 'guest' }), 'guest'), undefined);
    const copy = copyOptions('guest', msg(Buffer.alloc(0), { headers }), 'rid', undefined, headers);
    assert.deepEqual([copy.userId, copy.headers?.['x-bosun-publisher'], copy.messageId], ['guest', '', 'rid']);
  });

  it("a copy of a message that carried no id says so, and only the agent's own copies are believed", () => {
    const idless = msg(Buffer.from('{}'));
    const copy = copyOptions('guest', idless, 'rand-1', undefined, {});
    assert.equal(copy.headers?.[ID_GENERATED_HEADER], '1');
    const received = msg(Buffer.from('{}'), { messageId: 'rand-1', headers: copy.headers ?? {}, userId: 'guest' });
    assert.equal(idWasGenerated(received, 'guest'), true, 'the copy, published as the agent');
    assert.equal(idWasGenerated({ ...received, userId: 'mallory' }, 'guest'), false, "a sender's own header is not believed");
    assert.equal(copyOptions('guest', received, 'rand-1', undefined, received.headers).headers?.[ID_GENERATED_HEADER], '1', 'a copy of the copy keeps it');
    const given = msg(Buffer.from('{}'), { messageId: 'mine', headers: { [ID_GENERATED_HEADER]: '1' }, userId: 'mallory' });
    assert.equal(copyOptions('guest', given, 'mine', undefined, given.headers).headers?.[ID_GENERATED_HEADER], undefined, "a sender's header is not carried into the copy");
    // identify: the copy's id is the first delivery's; it counts as given (its cold work is found by that id) and as made by bosun (its warm claim by body).
    const who = identify({ channel: 'c', body: received.body, messageId: 'rand-1' }, {}, true);
    assert.deepEqual([who.id, who.explicit, who.generated], ['rand-1', true, true]);
    assert.equal(identify({ channel: 'c', body: received.body, messageId: 'rand-1' }, { request_id: 'body-id' }, true).generated, false, 'a request_id in the body is the sender\'s');
    const fresh = identify({ channel: 'c', body: received.body }, {});
    assert.deepEqual([fresh.explicit, fresh.generated], [false, true]);
    // An empty id is no id, to identify and to the copy alike (a Redis message_id of '' once slipped between them).
    const empty = msg(Buffer.from('{}'), { messageId: '' });
    assert.equal(identify({ channel: 'c', body: empty.body, messageId: '' }, {}).generated, true);
    assert.equal(copyOptions(undefined, empty, 'rand-2', undefined, {}).headers?.[ID_GENERATED_HEADER], '1', 'its copy says its id was made');
    const byCorrelation = identify({ channel: 'c', body: empty.body, messageId: '', correlationId: 'corr' }, {});
    assert.deepEqual([byCorrelation.id, byCorrelation.generated], ['corr', false]);
    assert.equal(idWasGenerated(msg(Buffer.from('{}'), { messageId: '', correlationId: 'corr' }), undefined), false);
  });

  it('which messages are runs, and of which kind (as each action declares it, on a valid body)', () => {
    assert.equal(runKindOf('start_container.create', { image: 'alpine' }), 'detached');
    assert.equal(runKindOf('start_container.response_channel', { image: 'alpine', response_channel: 'out' }), 'attached');
    assert.equal(runKindOf('dispatch', { dockercmd: 'run', image: 'alpine', options: {} }), 'detached');
    assert.equal(runKindOf('dispatch', { Dockercmd: 'run', Image: 'alpine', Options: { Attach: ['stdout'] } }), 'attached');
    assert.equal(runKindOf('dispatch', { dockercmd: 'stop', container: 'x', options: {} }), undefined);
    assert.equal(runKindOf('container_status', { name: 'x' }), undefined);
  });
});

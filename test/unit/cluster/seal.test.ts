import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RejectedMessage, SERVERS, Sealer } from '../../../src/cluster/seal.js';
import { bearerMatches, isLoopback, assertServerAuth } from '../../../src/cluster/server/auth.js';
import { parsePort, parseVolume } from '../../../src/cluster/node/spec.js';

const key = Buffer.from('k'.repeat(32));
const order = { type: 'stop', service: 's', slot: 0, generation: 1 };

function reason(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof RejectedMessage, String(e));
    assert.equal(e.code, 'policy_denied');
    return e.reason;
  }
}

test('a sealed order opens once, for its recipient only, within the window', () => {
  let now = 1_000_000;
  const server = new Sealer({ key, self: SERVERS, clock: { now: () => now } });
  const node = new Sealer({ key, self: 'n1', clock: { now: () => now }, maxAgeMs: 60_000 });
  const sealed = server.seal('n1', order);
  assert.deepEqual(JSON.parse(node.open(sealed).body), order);
  assert.equal(node.open(server.seal('n1', order)).from, SERVERS);
  assert.equal(reason(() => node.open(sealed)), 'replayed');
  assert.equal(reason(() => new Sealer({ key, self: 'n2', clock: { now: () => now } }).open(server.seal('n1', order))), 'misaddressed');
  const old = server.seal('n1', order);
  now += 60_001;
  assert.equal(reason(() => node.open(old)), 'stale');
});

test('unsigned, tampered and foreign-key messages are refused; a keyless process refuses signed ones', () => {
  const server = new Sealer({ key, self: SERVERS });
  const node = new Sealer({ key, self: 'n1' });
  assert.equal(reason(() => node.open(JSON.stringify(order))), 'unsigned');
  assert.equal(reason(() => node.open('{not json')), 'unsigned');
  const env = JSON.parse(server.seal('n1', order)) as { payload: string; sig: string };
  const tampered = JSON.stringify({ ...env, payload: env.payload.replace('"slot":0', '"slot":1') });
  assert.equal(reason(() => node.open(tampered)), 'bad_signature');
  assert.equal(reason(() => node.open(new Sealer({ key: Buffer.from('x'.repeat(32)), self: SERVERS }).seal('n1', order))), 'bad_signature');
  assert.equal(reason(() => new Sealer({ key: undefined, self: 'n1' }).open(server.seal('n1', order))), 'no_key');
  assert.deepEqual(JSON.parse(new Sealer({ key: undefined, self: 'n1' }).open(JSON.stringify(order)).body), order);
});

test('bearer tokens compare whole; loopback and start-up rules', () => {
  assert.ok(bearerMatches('t'.repeat(20), `Bearer ${'t'.repeat(20)}`));
  assert.ok(!bearerMatches('t'.repeat(20), `Bearer ${'t'.repeat(19)}`));
  assert.ok(!bearerMatches('t'.repeat(20), undefined));
  assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('[::1]') && isLoopback('localhost'));
  assert.ok(!isLoopback('0.0.0.0') && !isLoopback('::') && !isLoopback('10.0.0.1'));
  const field = (c: Parameters<typeof assertServerAuth>[0]) => {
    try {
      assertServerAuth(c);
      return undefined;
    } catch (e) {
      return (e as { field?: string }).field;
    }
  };
  assert.equal(field({ host: '127.0.0.1', clusterKey: key }), 'token');
  assert.equal(field({ host: '0.0.0.0', insecureNoAuth: true }), 'token');
  assert.equal(field({ host: '127.0.0.1', token: 'x'.repeat(16) }), 'cluster-key');
  assert.equal(field({ host: '127.0.0.1', insecureNoAuth: true }), undefined);
  assert.equal(field({ host: '0.0.0.0', token: 'x'.repeat(16), clusterKey: key }), undefined);
});

test('template ports and volumes map to bindings and mounts (no host IP = all interfaces)', () => {
  assert.deepEqual(parsePort('80'), { containerPort: '80/tcp', hostPort: '' });
  assert.deepEqual(parsePort('8080:80/udp'), { containerPort: '80/udp', hostPort: '8080' });
  assert.deepEqual(parsePort('127.0.0.1:8080:80'), { containerPort: '80/tcp', hostPort: '8080', hostIp: '127.0.0.1' });
  assert.deepEqual(parsePort('127.0.0.1::80'), { containerPort: '80/tcp', hostPort: '', hostIp: '127.0.0.1' });
  assert.deepEqual(parsePort('[::1]:8080:80'), { containerPort: '80/tcp', hostPort: '8080', hostIp: '::1' });
  assert.deepEqual(parseVolume('/srv/bosun/x:/data:ro'), { type: 'bind', source: '/srv/bosun/x', target: '/data', readOnly: true });
  assert.deepEqual(parseVolume('cache:/cache'), { type: 'volume', source: 'cache', target: '/cache' });
});

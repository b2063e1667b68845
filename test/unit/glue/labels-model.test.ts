import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseGlueLabels } from '../../../src/glue/labels.js';
import { buildLbModel, compareRoutes } from '../../../src/glue/lb-model.js';
import { instanceRecords } from '../../../src/glue/discovery.js';
import type { GlueContainer } from '../../../src/glue/types.js';

function c(name: string, labels: Record<string, string>, ports = ['80/tcp'], ip = `10.0.0.${name.length}`): GlueContainer {
  return { id: `${name}-id-000000000000`, name, image: 'img', labels, networks: { bridge: ip }, exposedPorts: ports };
}

test('seed 004 labels: host, prefix without leading slash, strip, default weight 100', () => {
  const p = parseGlueLabels({ glue_http_80_host: 'WP1.example.com', glue_http_80_prefix: '/dashboard/horizon/', glue_http_80_strip_prefix: '1' });
  assert.deepEqual(p.http, [{ port: 80, host: 'wp1.example.com', prefix: 'dashboard/horizon', strip: true, weight: 100 }]);
  assert.deepEqual(p.problems, []);
});

test('glue_http_ports lists ports explicitly; tcp ports and weights; http wins over tcp', () => {
  const p = parseGlueLabels({ glue_http_ports: '8080', glue_tcp_ports: '5432, 8080', glue_tcp_5432_weight: '7' });
  assert.deepEqual(p.http.map((r) => r.port), [8080]);
  assert.deepEqual(p.tcp, [{ port: 5432, weight: 7 }]);
  assert.equal(p.problems.length, 1);
});

test('bad values are problems, never exceptions', () => {
  const p = parseGlueLabels({ glue_http_80_weight: 'heavy', glue_http_81_host: 'bad host!', glue_tcp_ports: 'x,70000', glue_http_82_weight: '999' });
  assert.deepEqual(p.http.map((r) => [r.port, r.weight]), [[80, 100], [82, 256]]);
  assert.equal(p.problems.length, 5);
});

test('routes: longer host first, host-less last, longest prefix first within a host', () => {
  const m = buildLbModel(
    [
      c('a', { glue_http_80_host: 'example.com' }),
      c('b', { glue_http_80_host: 'api.example.com' }),
      c('cc', { glue_http_80_host: 'example.com', glue_http_80_prefix: 'identity/keystone' }),
      c('ddd', { glue_http_80_host: 'example.com', glue_http_80_prefix: 'identity' }),
      c('eeee', { glue_http_80_prefix: 'static' }),
    ],
    { tcpPortOffset: 0 },
  );
  assert.deepEqual(
    m.routes.map((r) => `${r.host}/${r.prefix}`),
    ['api.example.com/', 'example.com/identity/keystone', 'example.com/identity', 'example.com/', '/static'],
  );
  assert.deepEqual(m.problems, []);
});

test('containers sharing host+prefix share a backend with their own weights', () => {
  const m = buildLbModel(
    [c('one', { glue_http_80_host: 'w.test', glue_http_80_weight: '30' }), c('two', { glue_http_80_host: 'w.test', glue_http_80_weight: '10' })],
    { tcpPortOffset: 0 },
  );
  assert.equal(m.routes.length, 1);
  assert.deepEqual(m.routes[0]!.servers.map((s) => [s.name, s.weight]), [['one_80', 30], ['two_80', 10]]);
});

test('one bad container is skipped, the rest still routes', () => {
  const m = buildLbModel(
    [c('good', { glue_http_80_host: 'g.test' }), c('noport', { glue_http_80_host: 'n.test' }, []), c('noip', { glue_http_80_host: 'x.test' }, ['80/tcp'], '')],
    { tcpPortOffset: 0 },
  );
  assert.deepEqual(m.routes.map((r) => r.host), ['g.test']);
  assert.equal(m.problems.length, 2);
});

test('tcp services listen on port + offset', () => {
  const m = buildLbModel([c('db', { glue_tcp_ports: '5432' }, ['5432/tcp'])], { tcpPortOffset: 10000 });
  assert.deepEqual(m.tcp.map((t) => [t.port, t.listenPort, t.servers.length]), [[5432, 15432, 1]]);
});

test('property: model is independent of the order containers are listed in', () => {
  const hosts = ['', 'a.test', 'b.a.test', 'c.test'];
  const prefixes = ['', 'x', 'x/y', 'z'];
  const arb = fc.uniqueArray(
    fc.record({ name: fc.stringMatching(/^[a-z]{1,6}$/), h: fc.constantFrom(...hosts), p: fc.constantFrom(...prefixes), w: fc.integer({ min: 0, max: 256 }) }),
    { selector: (r) => r.name, maxLength: 12 },
  );
  fc.assert(
    fc.property(arb, fc.integer(), (specs, seed) => {
      const cs = specs.map((s) => c(s.name, { glue_http_80_host: s.h, glue_http_80_prefix: s.p, glue_http_80_weight: String(s.w) }));
      const shuffled = [...cs].sort(() => (seed % 3) - 1);
      const a = buildLbModel(cs, { tcpPortOffset: 0 });
      const b = buildLbModel(shuffled.reverse(), { tcpPortOffset: 0 });
      assert.deepEqual(a, b);
      // Every container appears exactly once; routes are sorted by the routing order.
      assert.equal(a.routes.reduce((n, r) => n + r.servers.length, 0), cs.length);
      for (let i = 1; i < a.routes.length; i++) assert.ok(compareRoutes(a.routes[i - 1]!, a.routes[i]!) < 0);
    }),
  );
});

test('discovery: key layout <prefix>/services/<service>/<instance>, only routable containers', () => {
  const recs = instanceRecords(
    [c('web', { glue_http_80_host: 'w.test', glue_service: 'shop' }), c('plain', {}), c('hidden', { glue_http_80_host: 'h.test' }, [])],
    { prefix: '/bosun/glue/', node: 'n1' },
  );
  assert.deepEqual([...recs.keys()], ['/bosun/glue/services/shop/web-id-00000']);
  const rec = JSON.parse([...recs.values()][0]!) as { address: string; ports: { port: number; proto: string }[]; node: string };
  assert.equal(rec.address, '10.0.0.3');
  assert.deepEqual(rec.ports.map((p) => [p.port, p.proto]), [[80, 'http']]);
  assert.equal(rec.node, 'n1');
});

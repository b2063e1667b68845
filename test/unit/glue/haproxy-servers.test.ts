/** The pure diff deciding runtime API operations vs a reload, on configs rendered by the default template. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildLbModel } from '../../../src/glue/lb-model.js';
import { DEFAULT_TEMPLATE, renderConfigFile } from '../../../src/glue/render.js';
import { parseConfig, parseServerArgs, planServerUpdate } from '../../../src/glue/haproxy-servers.js';
import type { GlueContainer } from '../../../src/glue/types.js';

const settings = { http_bind: '127.0.0.1:8080', tcp_bind_address: '127.0.0.1', stats_socket: '/tmp/x.sock', maxconn: 100 };

function web(name: string, ip: string, labels: Record<string, string>): GlueContainer {
  return { id: `${name}-id`, name, image: 'i', labels, networks: { n: ip }, exposedPorts: ['80/tcp', '6379/tcp'] };
}
const render = (cs: GlueContainer[]) => renderConfigFile(DEFAULT_TEMPLATE, buildLbModel(cs, { tcpPortOffset: 0 }), settings);

const a = web('a', '10.0.0.2', { glue_http_80_host: 'x.test' });
const b = web('b', '10.0.0.3', { glue_http_80_host: 'x.test', glue_http_80_weight: '5' });
const t = web('t', '10.0.0.4', { glue_tcp_ports: '6379' });

test('a container joining an existing backend is one add; leaving is one remove (with its old args)', () => {
  const plan = planServerUpdate(render([a, t]), render([a, b, t]));
  assert.deepEqual(plan, { kind: 'runtime', ops: [{ kind: 'add', backend: 'be_0_x.test_', server: 'b_80', args: '10.0.0.3:80 weight 5' }] });
  const back = planServerUpdate(render([a, b, t]), render([a, t]));
  assert.deepEqual(back, { kind: 'runtime', ops: [{ kind: 'remove', backend: 'be_0_x.test_', server: 'b_80', args: '10.0.0.3:80 weight 5' }] });
  const tcp = planServerUpdate(render([a, t]), render([a, t, web('u', '10.0.0.5', { glue_tcp_ports: '6379' })]));
  assert.deepEqual(tcp, { kind: 'runtime', ops: [{ kind: 'add', backend: 'tcp_6379', server: 'u_6379', args: '10.0.0.5:6379 weight 100' }] });
});

test('same name with another weight or address: set weight / set addr; adds before removes', () => {
  const b2 = web('b', '10.0.0.9', { glue_http_80_host: 'x.test', glue_http_80_weight: '7' });
  const c = web('c', '10.0.0.6', { glue_http_80_host: 'x.test' });
  const plan = planServerUpdate(render([a, b]), render([b2, c]));
  assert.deepEqual(plan, {
    kind: 'runtime',
    ops: [
      { kind: 'add', backend: 'be_0_x.test_', server: 'c_80', args: '10.0.0.6:80 weight 100' },
      { kind: 'set-addr', backend: 'be_0_x.test_', server: 'b_80', addr: '10.0.0.9', port: 80 },
      { kind: 'set-weight', backend: 'be_0_x.test_', server: 'b_80', weight: 7 },
      { kind: 'remove', backend: 'be_0_x.test_', server: 'a_80', args: '10.0.0.2:80 weight 100' },
    ],
  });
});

test('a new backend, a backend gone, a frontend or setting change: reload', () => {
  const y = web('y', '10.0.0.7', { glue_http_80_host: 'y.test' });
  assert.equal(planServerUpdate(render([a]), render([a, y])).kind, 'reload', 'new backend');
  assert.equal(planServerUpdate(render([a, y]), render([a])).kind, 'reload', 'last server gone = backend gone');
  assert.equal(planServerUpdate(render([a]), render([a, t])).kind, 'reload', 'new tcp listener');
  const other = renderConfigFile(DEFAULT_TEMPLATE, buildLbModel([a], { tcpPortOffset: 0 }), { ...settings, maxconn: 200 });
  assert.equal(planServerUpdate(render([a]), other).kind, 'reload', 'global setting');
  assert.deepEqual(planServerUpdate(render([a]), render([a])), { kind: 'runtime', ops: [] });
});

test('server lines differing beyond address/port/weight, or a default-server backend: reload', () => {
  const base = 'backend be\n    balance roundrobin\n    server s 10.0.0.2:80 weight 1\n';
  assert.equal(planServerUpdate(base, base.replace('weight 1', 'weight 1 check')).kind, 'reload');
  const defaults = 'backend be\n    default-server inter 2s\n    server s 10.0.0.2:80\n';
  assert.equal(planServerUpdate(defaults, `${defaults}    server t 10.0.0.3:80\n`).kind, 'reload');
  // a template that renders something else from the servers (here a count) changes the skeleton
  assert.equal(planServerUpdate('backend be\n    # 1 servers\n    server s 1.2.3.4:80\n', 'backend be\n    # 2 servers\n    server s 1.2.3.4:80\n    server t 1.2.3.5:80\n').kind, 'reload');
  // server-template lines are not server lines
  assert.equal(planServerUpdate('backend be\n    server-template s 2 1.2.3.4:80\n', 'backend be\n    server-template s 3 1.2.3.4:80\n').kind, 'reload');
});

test('parseServerArgs: address, port, weight, rest', () => {
  assert.deepEqual(parseServerArgs('10.0.0.2:80 weight 5 check inter 2s'), { addr: '10.0.0.2', port: 80, weight: 5, rest: 'check inter 2s' });
  assert.deepEqual(parseServerArgs('[fd00::2]:8080'), { addr: 'fd00::2', port: 8080, weight: 1, rest: '' });
  assert.equal(parseServerArgs('backend.local').port, undefined);
});

test('property: any two sets of servers in the same backends plan as runtime ops that turn one server map into the other', () => {
  const server = fc.record({ ip: fc.integer({ min: 2, max: 250 }), weight: fc.integer({ min: 1, max: 256 }) });
  const names = ['s1', 's2', 's3', 's4', 's5'];
  const servers = fc.dictionary(fc.constantFrom(...names), server, { minKeys: 1 });
  fc.assert(
    fc.property(servers, servers, (x, y) => {
      const cfg = (m: Record<string, { ip: number; weight: number }>) =>
        `backend be\n    balance roundrobin\n${Object.entries(m).map(([n, s]) => `    server ${n} 10.0.0.${s.ip}:80 weight ${s.weight}\n`).join('')}`;
      const plan = planServerUpdate(cfg(x), cfg(y));
      assert.equal(plan.kind, 'runtime');
      if (plan.kind !== 'runtime') return;
      const live = new Map(Object.entries(x).map(([n, s]) => [n, { ...s }]));
      for (const op of plan.ops) {
        if (op.kind === 'add') live.set(op.server, { ip: Number(op.args.split(/[.:]/)[3]), weight: parseServerArgs(op.args).weight });
        if (op.kind === 'remove') live.delete(op.server);
        if (op.kind === 'set-addr') live.get(op.server)!.ip = Number(op.addr.split('.')[3]);
        if (op.kind === 'set-weight') live.get(op.server)!.weight = op.weight;
      }
      const sorted = (e: [string, { ip: number; weight: number }][]) => e.map(([n, s]) => `${n} ${s.ip} ${s.weight}`).sort();
      assert.deepEqual(sorted([...live]), sorted(Object.entries(y)));
      assert.equal(parseConfig(cfg(x)).skeleton, parseConfig(cfg(y)).skeleton);
    }),
  );
});

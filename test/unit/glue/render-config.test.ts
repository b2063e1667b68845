import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { buildLbModel } from '../../../src/glue/lb-model.js';
import { DEFAULT_TEMPLATE, renderConfigFile, renderConfigString } from '../../../src/glue/render.js';
import { matchesEvent, parseHandlerFile } from '../../../src/glue/config.js';
import { isBosunError } from '../../../src/domain/errors.js';
import type { GlueContainer } from '../../../src/glue/types.js';

const settings = { http_bind: '127.0.0.1:8080', tcp_bind_address: '127.0.0.1', stats_socket: '', maxconn: 100 };
const web: GlueContainer = {
  id: 'abc',
  name: 'web',
  image: 'i',
  labels: { glue_http_80_host: 'os.example.com', glue_http_80_prefix: 'dashboard/horizon', glue_http_80_strip_prefix: '1', glue_http_80_weight: '5', glue_tcp_ports: '6379' },
  networks: { bridge: '172.17.0.9' },
  exposedPorts: ['80/tcp', '6379/tcp'],
};

test('default template: host exact+subdomain ACLs, prefix ACLs, replace-path strip, weights, tcp listen', () => {
  const text = renderConfigFile(DEFAULT_TEMPLATE, buildLbModel([web], { tcpPortOffset: 10000 }), settings);
  assert.match(text, /bind 127\.0\.0\.1:8080/);
  assert.match(text, /_host req\.hdr\(host\),field\(1,:\),lower -m str os\.example\.com/);
  assert.match(text, /_host req\.hdr\(host\),field\(1,:\),lower -m end \.os\.example\.com/);
  assert.match(text, /_path path -m beg \/dashboard\/horizon\//);
  assert.match(text, /http-request replace-path \^\/dashboard\/horizon\/\?\(\.\*\)\$ \/\\1/);
  assert.match(text, /server web_80 172\.17\.0\.9:80 weight 5/);
  assert.match(text, /listen tcp_6379\n {4}mode tcp\n {4}bind 127\.0\.0\.1:16379/);
  assert.doesNotMatch(text, /reqrep/);
});

test('rendering is deterministic (skip-unchanged compares text)', () => {
  const m = buildLbModel([web], { tcpPortOffset: 0 });
  assert.equal(renderConfigFile(DEFAULT_TEMPLATE, m, settings), renderConfigFile(DEFAULT_TEMPLATE, m, settings));
});

test('a template syntax error is a non-retryable error, not a crash', () => {
  try {
    renderConfigString('{% for r in routes %}', buildLbModel([], { tcpPortOffset: 0 }), settings);
    assert.fail('should throw');
  } catch (e) {
    assert.ok(isBosunError(e));
    assert.equal(e.retryable, false);
  }
});

test('seed 004 INI read as is: class names map, events list, triggers-none, params normalised', async () => {
  const cfg = parseHandlerFile(
    '/etc/docker-glue.d/test.ini',
    '[handler]\nclass=DockerGlue.handlers.exec.ScriptHandler\nevents=all\nenabled=1\ntriggers-none=0\n\n[params]\nscript=test-handler.sh\ndemo-option=some value\n',
  );
  assert.equal(cfg.type, 'script');
  assert.deepEqual(cfg.events, ['all']);
  assert.equal(cfg.enabled, true);
  assert.equal(cfg.triggersNone, false);
  assert.deepEqual(cfg.params, { script: 'test-handler.sh', demo_option: 'some value' });
  const lb = parseHandlerFile('/x/lb.ini', '[handler]\nclass=DockerGlue.handlers.lb.HAProxyHandler\nevents=die,start,none\nenabled=1\n\n[params]\n#template_dir=\n');
  assert.equal(lb.type, 'haproxy');
  assert.deepEqual(lb.events, ['die', 'start', 'none']);
  const pub = parseHandlerFile('/x/p.ini', '[handler]\nclass=DockerGlue.handlers.publishers.distconfig.Publisher\nevents=all,none\n');
  assert.equal(pub.type, 'etcd');
});

test('YAML handler files and plugin module paths', () => {
  const cfg = parseHandlerFile('/d/p.yaml', 'handler:\n  class: ./my-plugin.ts\n  events: [start, die]\n  triggers-none: true\nparams:\n  level: 3\n');
  assert.equal(cfg.type, 'plugin');
  assert.equal(cfg.params.module, './my-plugin.ts');
  assert.equal(cfg.params.level, '3');
  assert.equal(cfg.triggersNone, true);
  assert.throws(() => parseHandlerFile('/d/x.ini', '[handler]\nclass=DockerGlue.handlers.demo.DemoHandler\n'), /unknown handler class/);
  assert.throws(() => parseHandlerFile('/d/x.yaml', 'params: {}\n'), /handler/);
});

test('events: all excludes none, none only when listed', () => {
  assert.ok(matchesEvent({ events: ['all'] }, 'start'));
  assert.ok(!matchesEvent({ events: ['all'] }, 'none'));
  assert.ok(matchesEvent({ events: ['all', 'none'] }, 'none'));
  assert.ok(!matchesEvent({ events: ['start'] }, 'die'));
});

test('the shipped examples parse', async () => {
  const read = async (f: string) => {
    const path = new URL(`../../../examples/docker-glue.d/${f}`, import.meta.url).pathname;
    return parseHandlerFile(path, await readFile(path, 'utf8'));
  };
  const lb = await read('lb.ini');
  assert.equal(lb.type, 'haproxy');
  assert.deepEqual(lb.events, ['die', 'start', 'stop', 'kill', 'pause', 'unpause', 'destroy', 'none']);
  assert.equal(lb.params.config_file, '/etc/haproxy/haproxy.cfg');
  assert.equal(lb.params.http_bind, '*:80');
  const script = await read('test.ini');
  assert.equal(script.type, 'script');
  assert.equal(script.triggersNone, false);
  assert.equal(script.params.script, 'test-handler.sh');
  assert.equal(script.params.timeout_ms, '10000');
  const pub = await read('publisher.ini');
  assert.equal(pub.type, 'etcd');
  assert.equal(pub.params.endpoints, 'http://127.0.0.1:2379');
  const broker = await read('broker.yaml');
  assert.equal(broker.type, 'broker');
  assert.equal(broker.enabled, false);
  assert.deepEqual(broker.events, ['start', 'die', 'stop', 'destroy']);
  const plugin = await read('plugin.yaml');
  assert.equal(plugin.type, 'plugin');
  assert.equal(plugin.params.module, './log-plugin.mjs');
  assert.equal(plugin.params.greeting, 'hello');
});

test('INI as configparser reads it: ; and # inside values kept, key: value, continuation lines, comment lines', () => {
  const cfg = parseHandlerFile('/x/s.ini', [
    '# a comment',
    '[handler]',
    'class: DockerGlue.handlers.exec.ScriptHandler',
    'events = start, die',
    '; another comment',
    '[params]',
    'reload_command=systemctl reload haproxy; logger done',
    'script = run#1.sh',
    'args = one',
    '  two',
  ].join('\n'));
  assert.equal(cfg.type, 'script');
  assert.deepEqual(cfg.events, ['start', 'die']);
  assert.equal(cfg.params.reload_command, 'systemctl reload haproxy; logger done');
  assert.equal(cfg.params.script, 'run#1.sh');
  assert.equal(cfg.params.args, 'one\ntwo');
  assert.throws(() => parseHandlerFile('/x/bad.ini', 'class=x\n'), /bad\.ini:1: a key before any \[section\]/);
});

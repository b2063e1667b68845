import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildRunSpec, parseBytes, splitCommand } from '../../../src/actions/run-spec.js';
import { attachedRunSchema, createRunSchema } from '../../../src/actions/schemas/run.js';
import { lowerKeys } from '../../../src/actions/dispatch.js';
import { decodeBody } from '../../../src/pipeline/decode.js';
import { validate } from '../../../src/domain/validate.js';
import { planReplies } from '../../../src/pipeline/reply.js';
import { isBosunError } from '../../../src/domain/errors.js';

const ctx = { requestId: 'r1', bodyHash: 'h', channel: 'start_container.create', image: 'img', uuid: 'u'.repeat(32), hostTz: 'UTC', attached: false };

describe('run messages (pure)', () => {
  it('splits command lines like a shell word list', () => {
    assert.deepEqual(splitCommand(`python hello_world.py`), ['python', 'hello_world.py']);
    assert.deepEqual(splitCommand(`sh -c "echo 'a b'; exit 3"`), ['sh', '-c', "echo 'a b'; exit 3"]);
    assert.deepEqual(splitCommand(`a\\ b ''`), ['a b', '']);
    assert.throws(() => splitCommand(`echo "open`), (e: unknown) => isBosunError(e) && e.field === 'command');
  });

  it('joined words split back to themselves', () => {
    fc.assert(fc.property(fc.array(fc.string({ minLength: 1 }).filter((s) => !/["'\\\s]/.test(s)), { maxLength: 6 }), (words) => {
      assert.deepEqual(splitCommand(words.map((w) => `"${w}"`).join(' ')), words);
    }));
  });

  it("maps seed 000's example message field for field", () => {
    const input = validate(createRunSchema, decodeBody(Buffer.from(`{
      "image": "python_generated_image", "command":'python hello_world.py', "name": "python-exec",
      "context": '/srv/bosun/hello/', "build": true,
      "volumes": { '/srv/bosun/hello/': { 'bind': '/opt/hello_world/', 'mode': 'rw' } } }`)));
    const spec = buildRunSpec(input, ctx);
    assert.deepEqual(spec.cmd, ['python', 'hello_world.py']);
    assert.equal(spec.name, 'python-exec');
    assert.deepEqual(spec.mounts, [{ type: 'bind', source: '/srv/bosun/hello/', target: '/opt/hello_world/', readOnly: false }]);
    assert.deepEqual(spec.env?.slice(0, 2), [`UUID=${'u'.repeat(32)}`, 'TZ=UTC']);
    assert.deepEqual(spec.restartPolicy, { name: 'on-failure', maximumRetryCount: 5 });
    assert.equal(spec.labels?.['bosun.request'], 'r1');
  });

  it('attached runs do not restart by default; limits, ports and env objects translate', () => {
    const input = validate(attachedRunSchema, {
      image: 'i', response_channel: 'c', environment: { A: 1, B: 'x' }, ports: { '80': 8080, '53/udp': '127.0.0.1:5353' }, resources: { memory: '256m', cpus: 0.5 },
    });
    const spec = buildRunSpec(input, { ...ctx, attached: true });
    assert.deepEqual(spec.restartPolicy, { name: 'no' });
    assert.ok(spec.env?.includes('A=1') && spec.env.includes('B=x'));
    assert.deepEqual(spec.portBindings, [
      { containerPort: '80/tcp', hostIp: '', hostPort: '8080' },
      { containerPort: '53/udp', hostIp: '127.0.0.1', hostPort: '5353' },
    ]);
    assert.deepEqual(spec.resources, { memory: 256 * 1024 * 1024, nanoCpus: 500_000_000 });
    assert.equal(parseBytes('1g'), 1024 ** 3);
  });

  it('names unknown and wrong fields', () => {
    assert.throws(() => validate(createRunSchema, { image: 'x', comand: 'ls' }), (e: unknown) => isBosunError(e) && e.field === 'comand' && /unknown field/.test(e.message));
    assert.throws(() => validate(attachedRunSchema, { image: 'x' }), (e: unknown) => isBosunError(e) && e.field === 'response_channel');
    assert.throws(() => validate(createRunSchema, { image: 'x', environment: ['NOVALUE'] }), (e: unknown) => isBosunError(e) && e.field === 'environment.0');
  });

  it('rejects bodies that are not objects', () => {
    for (const b of ['', '[1]', '"x"', '{broken']) assert.throws(() => decodeBody(Buffer.from(b)), (e: unknown) => isBosunError(e) && e.code === 'bad_json');
  });

  it('lower-cases dispatch keys and refuses the same key twice', () => {
    assert.deepEqual(lowerKeys({ Dockercmd: 'run', Options: { Name: 'n' } }), { dockercmd: 'run', options: { name: 'n' } });
    assert.throws(() => lowerKeys({ Image: 'a', image: 'b' }), (e: unknown) => isBosunError(e) && e.field === 'image');
  });

  it('plans replies: raw stdout to response_channel, the envelope to reply_to', () => {
    const env = { ok: true, action: 'a', request_id: 'r', stdout: 'out\n', duration_ms: 1 };
    assert.deepEqual(planReplies(env, { responseChannel: 'rc', replyTo: 'rt', format: 'raw' }).map((r) => [r.channel, r.body, r.declare]), [
      ['rc', 'out\n', true],
      ['rt', JSON.stringify(env), false],
    ]);
    const failed = { ...env, ok: false };
    assert.equal(planReplies(failed, { responseChannel: 'rc', format: 'raw' })[0]?.body, JSON.stringify(failed));
  });
});

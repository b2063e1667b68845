/** Podman's differences from Docker, as the adapter maps them (pure). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DOCKER_RULES, flavourOfVersion } from '../../../src/adapters/engine-docker/flavour.js';
import { flavouredImage, rulesFor } from '../../../src/adapters/engine-docker/flavoured.js';
import { parseEventLine } from '../../../src/adapters/engine-docker/events.js';
import { PODMAN_RULES, podmanDetails, shortImageName } from '../../../src/adapters/engine-docker/podman.js';
import { isAlreadyConnected, isNameInUse, isNotRunning } from '../../../src/adapters/engine-docker/compat-errors.js';

const ev = (action: string, type = 'container') => JSON.stringify({ Type: type, Action: action, Actor: { ID: 'c1', Attributes: { name: 'n', image: 'localhost/x:1' } }, timeNano: 1 });
const apiError = (statusCode: number, message: string) => ({ statusCode, json: { message } });

describe('engine flavour', () => {
  it('is detected from /version', () => {
    assert.equal(flavourOfVersion({ Components: [{ Name: 'Podman Engine' }, { Name: 'Conmon' }] }), 'podman');
    assert.equal(flavourOfVersion({ Components: [{ Name: 'Engine' }, { Name: 'containerd' }] }), 'docker');
    assert.equal(flavourOfVersion({}), 'docker');
    assert.equal(rulesFor('podman'), PODMAN_RULES);
    assert.equal(rulesFor('docker'), DOCKER_RULES);
  });

  it('writes Podman-qualified image names in Docker\'s short form, and leaves others', () => {
    assert.equal(shortImageName('localhost/bosun-busybox:latest'), 'bosun-busybox:latest');
    assert.equal(shortImageName('docker.io/library/app:1'), 'app:1');
    assert.equal(shortImageName('docker.io/acme/app:1'), 'acme/app:1');
    assert.equal(shortImageName('registry.example:5000/app:1'), 'registry.example:5000/app:1');
    const img = { id: 'i', tags: ['localhost/a:1', 'a:1'], labels: {}, created: '' };
    assert.deepEqual(flavouredImage(PODMAN_RULES, img).tags, ['a:1']);
    assert.deepEqual(flavouredImage(DOCKER_RULES, img).tags, ['localhost/a:1', 'a:1']);
  });

  it('reads Podman\'s container events as Docker\'s and drops the ones Docker never sends', () => {
    assert.equal(parseEventLine(ev('remove'), PODMAN_RULES)?.kind, 'destroyed');
    assert.equal(parseEventLine(ev('remove'))?.kind, 'other', 'Docker has no such container event');
    assert.equal(parseEventLine(ev('died'), PODMAN_RULES)?.kind, 'died');
    assert.equal(parseEventLine(ev('died'), PODMAN_RULES)?.attributes.image, 'x:1');
    assert.equal(parseEventLine(ev('exec_died'), PODMAN_RULES)?.engineAction, 'exec_die');
    assert.equal(parseEventLine(ev('cleanup'), PODMAN_RULES), undefined);
    assert.equal(parseEventLine(ev('init'), PODMAN_RULES), undefined);
    assert.equal(parseEventLine(ev('remove', 'image'), PODMAN_RULES)?.engineAction, 'remove');
    assert.equal(parseEventLine(ev('cleanup'))?.engineAction, 'cleanup');
  });

  it('reads libpod\'s own states as Docker\'s', () => {
    assert.equal(PODMAN_RULES.containerStatus('stopped'), 'exited');
    assert.equal(PODMAN_RULES.containerStatus('stopping'), 'running');
    assert.equal(PODMAN_RULES.containerStatus('configured'), 'created');
    assert.equal(PODMAN_RULES.containerStatus('exited'), undefined);
    assert.equal(DOCKER_RULES.containerStatus('stopped'), undefined);
  });

  it('reads a numeric stop signal and derived CFS limits as Docker reports them', () => {
    const base = { stopSignal: '9', resources: { nanoCpus: 500_000_000, cpuPeriod: 100_000, cpuQuota: 50_000, memory: 1 } };
    const d = podmanDetails(base as unknown as Parameters<typeof podmanDetails>[0]);
    assert.equal(d.stopSignal, 'SIGKILL');
    assert.deepEqual(d.resources, { nanoCpus: 500_000_000, memory: 1 });
    const own = podmanDetails({ resources: { nanoCpus: 1_000_000_000, cpuPeriod: 100_000, cpuQuota: 50_000 } } as unknown as Parameters<typeof podmanDetails>[0]);
    assert.deepEqual(own.resources, { nanoCpus: 1_000_000_000, cpuPeriod: 100_000, cpuQuota: 50_000 }, 'limits that were not derived stay');
  });

  it('refuses in-place updates only on Podman', () => {
    assert.match(PODMAN_RULES.inPlaceUpdateUnsupported ?? '', /Podman/);
    assert.equal(DOCKER_RULES.inPlaceUpdateUnsupported, undefined);
  });

  it('reads "already so" answers in both engines\' words', () => {
    assert.ok(isNotRunning(apiError(409, 'Container abc is not running')));
    assert.ok(isNotRunning(apiError(500, 'can only kill running containers. abc is in state exited: container state improper')));
    assert.ok(!isNotRunning(apiError(500, 'OCI runtime error')));
    assert.ok(isNameInUse(apiError(500, 'creating container storage: the container name "x" is already in use by abc. You have to remove that container to be able to reuse that name: that name is already in use')));
    assert.ok(!isNameInUse(apiError(500, 'no space left on device')));
    assert.ok(isAlreadyConnected(apiError(403, 'endpoint with name x already exists in network n')));
    assert.ok(isAlreadyConnected(apiError(500, 'container abc is already connected to network "n": network is already connected')));
    assert.ok(!isAlreadyConnected(apiError(500, 'network not found')));
  });
});

/**
 * A minimal in-memory engine for unit tests of the message pipeline: containers that exist
 * (inspect, list by label) and nothing else — any other call fails loudly, so a test cannot
 * pass by a call it did not expect. To be replaced by the shared in-memory fake that passes
 * the engine contract suite.
 */
import type { ContainerDetails, ContainerSummary, ListFilter } from '../../src/domain/engine/index.js';
import type { ContainerEngine } from '../../src/ports/engine.js';

export interface FakeContainer {
  id: string;
  name: string;
  labels?: Record<string, string>;
  running?: boolean;
}

function details(c: FakeContainer): ContainerDetails {
  const running = c.running ?? true;
  return {
    id: c.id, name: c.name, image: 'fake:1', imageId: 'sha256:fake', created: new Date(0).toISOString(),
    state: { status: running ? 'running' : 'exited', running, exitCode: 0, oomKilled: false, restartCount: 0 },
    labels: c.labels ?? {}, cmd: [], entrypoint: [], env: [], workingDir: '', user: '', exposedPorts: [], portBindings: [], mounts: [],
    links: [], networkMode: 'bridge', networks: {}, restartPolicy: { name: 'no' }, resources: {}, privileged: false,
  };
}

function summary(c: FakeContainer): ContainerSummary {
  return { id: c.id, name: c.name, image: 'fake:1', imageId: 'sha256:fake', status: c.running ?? true ? 'running' : 'exited', labels: c.labels ?? {}, created: 0, networks: {}, ports: [] };
}

const unsupported = (what: string) => (): never => {
  throw new Error(`the fake engine has no ${what}`);
};

export function fakeEngine(containers: FakeContainer[] = []): ContainerEngine & { calls: string[] } {
  const calls: string[] = [];
  const find = (ref: string) => containers.find((c) => c.id === ref || c.name === ref);
  const matches = (c: FakeContainer, f: ListFilter | undefined) =>
    Object.entries(f?.labels ?? {}).every(([k, v]) => (v === true ? k in (c.labels ?? {}) : c.labels?.[k] === v)) && (f?.all || (c.running ?? true));
  const no = (what: string) => unsupported(what);
  return {
    calls,
    info: no('info'),
    containers: {
      create: no('containers.create'), start: no('containers.start'), stop: no('containers.stop'), kill: no('containers.kill'),
      restart: no('containers.restart'), remove: no('containers.remove'), wait: no('containers.wait'), update: no('containers.update'),
      rename: no('containers.rename'), logs: no('containers.logs'), attach: no('containers.attach'), top: no('containers.top'),
      inspect: async (ref) => {
        calls.push(`inspect ${ref}`);
        const c = find(ref);
        return c ? details(c) : undefined;
      },
      list: async (f) => {
        calls.push('list');
        return containers.filter((c) => matches(c, f)).map(summary);
      },
    },
    images: { inspect: no('images.inspect'), pull: no('images.pull'), build: no('images.build'), remove: no('images.remove') },
    networks: { ensure: no('networks.ensure'), remove: no('networks.remove'), connect: no('networks.connect'), disconnect: no('networks.disconnect') },
    volumes: { ensure: no('volumes.ensure'), remove: no('volumes.remove'), inspect: no('volumes.inspect') },
    exec: { run: no('exec.run') },
    events: { stream: no('events.stream') },
  };
}

/** Helpers for stack integration tests: stack files in a temp dir, labelled with the run id, cleaned up by it. */
import { rawDocker } from '../../../test/helpers/raw-docker.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerEngine } from '../../../src/ports/engine.js';
import { LABEL } from '../../../src/domain/labels.js';
import { loadStackFile } from '../../../src/stacks/load.js';
import { resolveOptions, type StackOptionsInputT } from '../../../src/stacks/options.js';
import { runStack, type StackCommand } from '../../../src/stacks/run-stack.js';
import { StackOptionsInput } from '../../../src/stacks/options.js';
import type { DesiredStack } from '../../../src/domain/stack.js';
import { removeTestContainers } from '../../helpers/docker.js';

export class StackFixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'bosun-stack-'));
  readonly names = new Set<string>();
  constructor(readonly engine: ContainerEngine, readonly runId: string) {}

  write(file: string, text: string): string {
    const path = join(this.dir, file);
    writeFileSync(path, text);
    return path;
  }

  load(file: string, text: string): DesiredStack {
    const stack = loadStackFile(this.write(file, text), { extraLabels: { [LABEL.test]: this.runId } });
    this.names.add(stack.name);
    return stack;
  }

  run(stack: DesiredStack, cmd: StackCommand, options: StackOptionsInputT = {}) {
    return runStack(this.engine, stack, cmd, resolveOptions(StackOptionsInput.parse(options)), { waitTimeoutMs: 30_000 });
  }

  async cleanup(): Promise<void> {
    await removeTestContainers(this.engine, this.runId);
    for (const n of this.names) {
      const nets = await rawDocker().listNetworks({ filters: JSON.stringify({ label: [`${LABEL.stack}=${n}`] }) });
      for (const net of nets) await this.engine.networks.remove(net.Id).catch(() => undefined);
      const vols = await rawDocker().listVolumes({ filters: JSON.stringify({ label: [`${LABEL.stack}=${n}`] }) });
      for (const v of vols.Volumes ?? []) await this.engine.volumes.remove(v.Name).catch(() => undefined);
    }
  }
}

export const byService = <T extends { service: string }>(xs: T[]) => Object.fromEntries(xs.map((x) => [x.service, x]));

/** Glue's broker handler on the real RabbitMQ: container events arrive on `bosun.events.<event>`. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { createTransport, DEFAULT_BROKER_URL } from '../../../src/adapters/transport-factory.js';
import type { Transport } from '../../../src/ports/transport.js';
import { runGlue } from '../../../src/glue/run.js';
import type { BrokerEventBody } from '../../../src/glue/handlers/broker.js';
import { LABEL } from '../../../src/domain/labels.js';
import { silentLogger } from '../../../src/util/log.js';
import { eventually, newRunId, removeTestContainers, testEngine, within, withCleanup } from '../../helpers/docker.js';
import { startWeb, tempDir } from './fixtures.js';
import { createTestNetwork, removeTestNetwork } from './fixtures.js';

const engine = testEngine();
const runId = newRunId();
const url = process.env.BOSUN_BROKER_URL ?? DEFAULT_BROKER_URL;
let consumer: Transport;
let dir: { path: string; remove(): Promise<void> };
const received: BrokerEventBody[] = [];

before(async () => {
  await createTestNetwork(engine, runId);
  dir = await tempDir('bosun-glue-broker-');
  await writeFile(join(dir.path, 'broker.yaml'), `handler:\n  class: broker\n  events: [start, die]\nparams:\n  url: ${url}\n`);
  consumer = await createTransport(url, silentLogger);
  await consumer.connect();
  await consumer.consume(
    `glue-test-${runId}`,
    async (m) => {
      received.push(JSON.parse(m.body.toString('utf8')) as BrokerEventBody);
      await m.ack();
    },
    { prefetch: 10, ephemeral: true, bind: { exchange: 'bosun', type: 'topic', routingKey: 'bosun.events.#' } },
  );
});

after(async () => {
  await consumer?.close();
  await removeTestContainers(engine, runId);
  await removeTestNetwork(engine, runId);
  await dir?.remove();
});

test('start and die of a container are published as bosun.events.start / .die', async () => {
  const ctl = new AbortController();
  const running = runGlue({
    configDir: dir.path,
    mode: 'watch',
    engine,
    log: silentLogger,
    signal: ctl.signal,
    resyncMs: 0,
    labels: { [LABEL.test]: runId },
    deps: { createTransport: (u) => createTransport(u, silentLogger), defaultBrokerUrl: url },
  });
  await withCleanup(async () => {
    // No wait for the subscription: the stream starts `since` the initial list, so nothing is missed.
    const web = await startWeb(engine, runId, 'evt', {});
    await engine.containers.stop(web.id, { timeoutSec: 1 });
    const mine = () => received.filter((b) => b.containerId === web.id).map((b) => b.event);
    await eventually('start and die on the broker', async () => mine().includes('start') && mine().includes('die'));
    const start = received.find((b) => b.containerId === web.id && b.event === 'start')!;
    assert.equal(start.name, web.name);
    assert.equal(start.attributes?.[LABEL.test], runId);
    assert.ok(start.timeNano && BigInt(start.timeNano) > 0n);
  }, async () => {
    ctl.abort();
    await within(running, 60_000, 'glue stopping after the abort');
  });
});

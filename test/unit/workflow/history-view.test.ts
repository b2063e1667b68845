/**
 * workflow.history as a reader sees it (review #2): task tokens are not handed out, and pages
 * stay bounded. The agent's real workflow part (openAgentWorkflows: PGlite in memory,
 * DurableExecutor, runners) on the in-memory engine; messages through runAction.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildRegistry } from '../../../src/actions/registry.js';
import { openAgentWorkflows, type AgentWorkflows } from '../../../src/app/agent-workflows.js';
import { PolicySchema } from '../../../src/domain/policy/schema.js';
import type { RunResult } from '../../../src/pipeline/context.js';
import { RunQuotas } from '../../../src/pipeline/quotas.js';
import { runAction } from '../../../src/pipeline/run-action.js';
import type { PublishOptions, Transport } from '../../../src/ports/transport.js';
import { silentLogger } from '../../../src/util/log.js';
import { waitForEnd } from '../../helpers/workflow.js';
import { HISTORY_PAGE_BYTES, REDACTED_TASK_TOKEN } from '../../../src/actions/workflow/inspect.js';
import { FAKE_IMAGE, fakeEngine } from '../../helpers/fake-engine.js';
import { tempDir } from '../../helpers/agent.js';

type Env = { ok: boolean; result?: Record<string, unknown> & { execution_id?: string; events?: Record<string, unknown>[] }; error?: { code: string; field?: string; message: string } };

const policy = PolicySchema.parse({});

describe('workflow.history: what a reader sees', () => {
  const engine = fakeEngine();
  const published: { channel: string; body: string }[] = [];
  const transport = { publish: async (channel: string, body: Buffer | string, _o?: PublishOptions) => void published.push({ channel, body: String(body) }) } as unknown as Transport;
  let wf: AgentWorkflows;
  let ctx: Parameters<typeof runAction>[2];
  let n = 0;

  before(async () => {
    wf = await openAgentWorkflows({ stateDir: tempDir('rv2'), storeUrl: 'memory:', engine, policy, transport, clock: { now: () => Date.now() }, log: silentLogger });
    wf.start();
    ctx = {
      registry: buildRegistry({ monitors: { add: async () => undefined } }, { extra: wf.actions }), engine, policy, clock: { now: () => Date.now() }, log: silentLogger,
      quotas: new RunQuotas(engine, () => Date.now()),
      publish: async (channel: string, body: string) => void published.push({ channel, body }),
      signal: new AbortController().signal,
    } as never;
  });
  after(async () => wf.stop());

  const send = async (publisher: string, channel: string, body: Record<string, unknown>): Promise<Env> => {
    const r: RunResult = await runAction(channel, { request_id: `rv2-${++n}`, ...body }, { ...ctx, message: { publisher, messageId: `m-${n}` } } as never);
    return r.envelope as unknown as Env;
  };

  it('workflow.history does not hand out a callback task\'s token (a bearer credential for task_success)', async () => {
    const start = await send('alice', 'workflow.start', {
      definition: {
        StartAt: 'Ask', States: {
          Ask: { Type: 'Task', Resource: 'bosun:publish.waitForTaskToken', Parameters: { channel: 'approvals.alice', message: { 'token.$': '$$.Task.Token' } }, ResultPath: '$.approval', End: true },
        },
      },
    });
    assert.equal(start.ok, true, JSON.stringify(start.error));
    const id = start.result!.execution_id!;
    let ev: Record<string, unknown> | undefined;
    for (let i = 0; i < 400 && !ev; i++) {
      const h = await send('bob', 'workflow.history', { execution_id: id });
      ev = h.result?.events?.find((e) => e.type === 'TaskScheduled');
      if (!ev) await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(ev, 'handled: the TaskScheduled event is in the page');
    const shown = (ev.parameters as { message: { token: string } }).message.token;
    assert.equal(shown, REDACTED_TASK_TOKEN, `the history shows ${shown}`);
    // The receiver of the task's message still has it, and it still works.
    const real = published.find((p) => p.channel === 'approvals.alice');
    const token = (JSON.parse(real!.body) as { token: string }).token;
    const ok = await send('alice', 'workflow.task_success', { task_token: token, output: { approved: true } });
    assert.equal(ok.ok, true, JSON.stringify(ok.error));
    assert.equal((await waitForEnd(wf.store, id)).status, 'SUCCEEDED');
  });

  it('workflow.history: a page stays under HISTORY_PAGE_BYTES (plus one event) and pages on to the end', async () => {
    const states: Record<string, unknown> = {};
    for (let i = 0; i < 60; i++) states[`P${i}`] = { Type: 'Pass', ...(i === 59 ? { End: true } : { Next: `P${i + 1}` }) };
    const start = await send('bob', 'workflow.start', { definition: { StartAt: 'P0', States: states }, input: { pad: 'x'.repeat(200 * 1024) } });
    assert.equal(start.ok, true, JSON.stringify(start.error));
    const id = start.result!.execution_id!;
    await waitForEnd(wf.store, id);
    const total = (await wf.store.history(id)).length;
    let after = 0;
    let seen = 0;
    let pages = 0;
    for (;;) {
      const h = await send('bob', 'workflow.history', { execution_id: id, limit: 1000, ...(after ? { after_seq: after } : {}) });
      assert.equal(h.ok, true, JSON.stringify(h.error));
      const bytes = Buffer.byteLength(JSON.stringify(h));
      assert.ok(bytes < HISTORY_PAGE_BYTES + 512 * 1024, `page of ${bytes} bytes (main: one page of ~24 MiB)`);
      seen += h.result!.events!.length;
      pages++;
      const next = h.result!.next_seq as number | undefined;
      if (next === undefined) break;
      after = next;
    }
    assert.equal(seen, total, 'every event was paged through');
    assert.ok(pages > 1, 'handled: the history needed several pages');
  });
});

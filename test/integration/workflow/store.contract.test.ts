/**
 * The WorkflowStore contract, on embedded PGlite and on PostgreSQL (own database per run):
 * versioned definitions, idempotent starts, leases with fencing, one-transaction commits,
 * timers and tasks as rows, an inbox with dedupe.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SqlWorkflowStore } from '../../../src/adapters/store-sql/workflow-store.js';
import { LeaseLostError, type Consumed, type ExecutionLease } from '../../../src/ports/workflow-store.js';
import type { Definition } from '../../../src/workflow/definition.js';
import { decide, type Command, type WorkflowEvent } from '../../../src/workflow/machine.js';
import { BACKENDS, openTestStore } from './stores.js';

const waitDef: Definition = {
  StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 5, Next: 'T' }, T: { Type: 'Task', Resource: 'bosun:run', Parameters: { image: 'alpine' }, End: true } },
} as unknown as Definition;

const started = (id: string): WorkflowEvent & { type: 'Started' } => ({ type: 'Started', executionId: id, definition: waitDef, input: { a: 1 }, seed: 7 });

async function untilTrue(f: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await f()) return;
    await new Promise((r) => setImmediate(r));
  }
  assert.fail(`never happened: ${what}`);
}

for (const backend of BACKENDS) {
  describe(`workflow store on ${backend}`, () => {
    let store: SqlWorkflowStore;
    let close: () => Promise<void>;
    before(async () => ({ store, close } = await openTestStore(backend)));
    after(async () => close());

    test('migrations are idempotent', async () => {
      await store.migrate();
      await store.migrate();
    });

    test('definitions keep every version; the newest is the default', async () => {
      const a = await store.putDefinition('chain', waitDef);
      const b = await store.putDefinition('chain', { ...waitDef, Comment: 'v2' } as Definition);
      assert.deepEqual([a.version, b.version], [1, 2]);
      assert.equal((await store.getDefinition('chain'))?.definition.Comment, 'v2');
      assert.equal((await store.getDefinition('chain', 1))?.definition.Comment, undefined);
      assert.equal(await store.getDefinition('nope'), undefined);
    });

    test('a start is idempotent on the execution id; the Started event waits in the inbox', async () => {
      const first = await store.createExecution({ id: 'e-idem', started: started('e-idem'), replyTo: { channel: 'r' } });
      const again = await store.createExecution({ id: 'e-idem', started: started('e-idem') });
      assert.equal(first.created, true);
      assert.equal(again.created, false);
      assert.deepEqual(again.record.replyTo, { channel: 'r' });
      const ev = await store.nextEvent('e-idem');
      assert.equal(ev?.event.type, 'Started');
      assert.equal(ev?.dedupeKey, 'started');
    });

    test('a transition commits row, history, timers and tasks together, under the lease only', async () => {
      await store.createExecution({ id: 'e-tx', started: started('e-tx') });
      const [lease] = await store.claimExecutions('agent-a', 60_000, 10, { ids: ['e-tx'] });
      assert.ok(lease);
      assert.deepEqual(await store.claimExecutions('agent-b', 60_000, 10, { ids: ['e-tx'] }), [], 'a held lease is not claimable');
      const ev = (await store.nextEvent('e-tx'))!;
      const now = Date.parse('2026-01-01T00:00:00Z');
      const d = await decide(undefined, ev.event as WorkflowEvent, now);
      const first = await store.commit(lease, { state: d.execution, status: 'RUNNING', history: d.history, commands: d.commands, consumed: { inbox: ev.id } });
      assert.equal(first.next, undefined, 'the event it consumed is not returned as the next one');
      const rec = (await store.getExecution('e-tx'))!;
      assert.equal(rec.state?.historyLength, d.history.length);
      const hist = await store.history('e-tx');
      assert.deepEqual(hist.map((h) => h.seq), d.history.map((_, i) => i + 1));
      assert.equal(hist[0]!.type, 'ExecutionStarted');
      assert.deepEqual(hist[0]!.input, { a: 1 });
      assert.equal(await store.nextEvent('e-tx'), undefined, 'the Started event was consumed');
      assert.deepEqual(await store.dueTimers('agent-a', now + 4_999, 10), []);
      const [timer] = await store.dueTimers('agent-a', now + 5_000, 10);
      assert.equal(timer?.kind, 'w');
      assert.deepEqual(await store.dueTimers('agent-b', now + 5_000, 10), [], 'timers go to the holder only');

      // Fire the timer: the task is scheduled in the same commit that deletes the timer.
      const d2 = await decide(d.execution, { type: 'TimerFired', token: timer.token }, now + 5_000);
      await store.commit(lease, { state: d2.execution, status: 'RUNNING', history: d2.history, commands: d2.commands, consumed: { timer: timer.token } });
      assert.deepEqual(await store.dueTimers('agent-a', now + 10_000, 10), []);
      const tasks = await store.openTasks('e-tx');
      assert.equal(tasks.length, 1);
      assert.equal(tasks[0]!.command.resource, 'bosun:run');
      assert.equal((await store.history('e-tx', d.history.length))[0]!.seq, d.history.length + 1, 'history continues its numbering');

      // A report marks the task reported; a duplicate report is dropped.
      const token = tasks[0]!.token;
      assert.equal(await store.postEvent('e-tx', { type: 'TaskSucceeded', token, output: { ok: true } }, `task:${token}`), true);
      assert.equal(await store.postEvent('e-tx', { type: 'TaskSucceeded', token, output: { ok: false } }, `task:${token}`), false);
      assert.deepEqual(await store.openTasks('e-tx'), []);
      const report = (await store.nextEvent('e-tx'))!;
      assert.deepEqual(report.event, { type: 'TaskSucceeded', token, output: { ok: true } });
      const d3 = await decide(d2.execution, report.event as WorkflowEvent, now + 6_000);
      assert.equal(d3.execution.status, 'SUCCEEDED');
      await store.commit(lease, { state: d3.execution, status: 'SUCCEEDED', history: d3.history, commands: d3.commands, consumed: { inbox: report.id } });
      const done = (await store.getExecution('e-tx'))!;
      assert.equal(done.status, 'SUCCEEDED');
      assert.equal(done.leaseOwner, undefined, 'an ended execution holds no lease');
      assert.deepEqual(done.state?.output, { ok: true });
      assert.deepEqual(await store.claimExecutions('agent-b', 60_000, 10, { ids: ['e-tx'] }), [], 'an ended execution is not claimed');
    });

    test('one commit writes only the net of what it makes and undoes; a terminal one leaves no timer or open task', async () => {
      await store.createExecution({ id: 'e-net', started: started('e-net') });
      const [lease] = await store.claimExecutions('agent-n', 60_000, 10, { ids: ['e-net'] });
      assert.ok(lease);
      const ev = (await store.nextEvent('e-net'))!;
      const now = Date.parse('2026-01-01T00:00:00Z');
      const d = await decide(undefined, ev.event as WorkflowEvent, now);
      const waitTimer = d.commands.find((c): c is Command & { type: 'StartTimer' } => c.type === 'StartTimer')!.token;
      const at = new Date(now + 1_000).toISOString();
      const task = (token: string): Command => ({ type: 'ScheduleTask', token, resource: 'bosun:run', parameters: {}, input: {}, attempt: 1, waitForTaskToken: false, state: 'T' });
      const commit = (commands: Command[], status: 'RUNNING' | 'SUCCEEDED' = 'RUNNING', consumed: Consumed = null) =>
        store.commit(lease, { state: d.execution, status, history: [], commands, consumed });
      await store.commit(lease, { state: d.execution, status: 'RUNNING', history: d.history, commands: d.commands, consumed: { inbox: ev.id } });
      await commit([
        { type: 'StartTimer', token: 'wa', at }, { type: 'CancelTimer', token: 'wa' }, { type: 'StartTimer', token: 'wb', at },
        task('t1'), { type: 'CancelTask', token: 't1' }, task('t2'),
      ]);
      const tokens = async (): Promise<[string[], string[]]> => [
        (await store.dueTimers('agent-n', now + 10_000, 10)).filter((t) => t.executionId === 'e-net').map((t) => t.token).sort(),
        (await store.openTasks('e-net')).map((t) => t.token),
      ];
      assert.deepEqual(await tokens(), [[waitTimer, 'wb'].sort(), ['t2']], 'the timer and the task undone in the same commit were never written');
      await commit([{ type: 'CancelTimer', token: 'wb' }, { type: 'CancelTask', token: 't2' }], 'RUNNING', { timer: waitTimer });
      assert.deepEqual(await tokens(), [[], []]);
      assert.equal(await store.postEvent('e-net', { type: 'Cancel' }, 'not-a-report'), true);
      const last = await commit([task('t3'), { type: 'StartTimer', token: 'wc', at }], 'SUCCEEDED');
      assert.equal(last.next?.event.type, 'Cancel', 'a commit returns the next unconsumed inbox event');
      assert.deepEqual(await tokens(), [[], []], 'a terminal commit starts nothing');
      const done = (await store.getExecution('e-net'))!;
      assert.equal(done.status, 'SUCCEEDED');
      assert.equal(done.leaseOwner, undefined);
      assert.equal((await store.history('e-net')).length, d.history.length, 'commits without history events add none');
    });

    test('an agent that lost its lease cannot commit, and nothing of its transition is written', async () => {
      await store.createExecution({ id: 'e-fence', started: started('e-fence') });
      const [old] = await store.claimExecutions('agent-a', 1, 10, { ids: ['e-fence'] });
      assert.ok(old);
      let stolen: ExecutionLease | undefined;
      await untilTrue(async () => ((stolen = (await store.claimExecutions('agent-b', 60_000, 10, { ids: ['e-fence'] }))[0]) !== undefined), 'the expired lease is claimable');
      assert.equal(stolen!.fence, old.fence + 1);
      const ev = (await store.nextEvent('e-fence'))!;
      const d = await decide(undefined, ev.event as WorkflowEvent, Date.now());
      await assert.rejects(
        store.commit(old, { state: d.execution, status: 'RUNNING', history: d.history, commands: d.commands, consumed: { inbox: ev.id } }),
        (e: unknown) => e instanceof LeaseLostError,
      );
      assert.equal((await store.getExecution('e-fence'))?.state, null);
      assert.deepEqual(await store.history('e-fence'), []);
      assert.equal((await store.nextEvent('e-fence'))?.id, ev.id, 'the event is still there for the new holder');
      assert.deepEqual(await store.renewLeases([old, stolen!], 60_000), [old], 'renewal reports the lost lease');
      await store.commit(stolen!, { state: d.execution, status: 'RUNNING', history: d.history, commands: d.commands, consumed: { inbox: ev.id } });
      assert.equal((await store.history('e-fence')).length, d.history.length);
    });

    test('reclaimOwn takes back leases held under the same name; release frees them', async () => {
      await store.createExecution({ id: 'e-own', started: started('e-own') });
      const [a] = await store.claimExecutions('agent-x', 60_000, 10, { ids: ['e-own'] });
      assert.deepEqual(await store.claimExecutions('agent-x', 60_000, 10, { ids: ['e-own'] }), [], 'without reclaimOwn a live lease stays');
      const [b] = await store.claimExecutions('agent-x', 60_000, 10, { ids: ['e-own'], reclaimOwn: true });
      assert.equal(b?.fence, a!.fence + 1);
      await store.releaseLease(b!);
      const [c] = await store.claimExecutions('agent-y', 60_000, 10, { ids: ['e-own'] });
      assert.equal(c?.owner, 'agent-y');
    });

    test('dispatch happens once; listing filters by status', async () => {
      await store.createExecution({ id: 'e-list', started: started('e-list') });
      const running = await store.listExecutions({ status: 'RUNNING' });
      assert.ok(running.some((r) => r.id === 'e-list'));
      assert.ok(!(await store.listExecutions({ status: 'SUCCEEDED' })).some((r) => r.id === 'e-list'));
      assert.equal(await store.markDispatched('e-list', 'nope'), false);
    });
  });
}

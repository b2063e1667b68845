/** Review #1, F-C2: a workflow's bosun:publish may not set bosun's own headers. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PublishOptions, Transport } from '../../../src/ports/transport.js';
import { PublishTaskRunner } from '../../../src/workflow/durable/publish-task.js';
import type { TaskContext } from '../../../src/workflow/durable/tasks.js';
import type { Json } from '../../../src/workflow/json.js';

const ctx = (parameters: Json): TaskContext => ({
  executionId: 'e.1',
  command: { type: 'ScheduleTask', token: 't3', resource: 'bosun:publish', parameters, input: {}, attempt: 1, waitForTaskToken: false, state: 'Ask' },
  signal: new AbortController().signal,
  detached: new AbortController().signal,
});

describe('review-1: bosun:publish headers', () => {
  for (const h of ['x-bosun-publisher', 'x-bosun-resume', 'X-Bosun-Attempts', 'bosun-execution-id']) {
    test(`refuses header ${h}, naming it; nothing published`, async () => {
      const sent: { channel: string; opts: PublishOptions | undefined }[] = [];
      const transport = { kind: 'amqp', publish: async (channel: string, _b: unknown, opts?: PublishOptions) => void sent.push({ channel, opts }) } as unknown as Transport;
      const ok = await new PublishTaskRunner(transport).run(ctx({ channel: 'run_container', message: {}, headers: { kind: 'x' } }));
      assert.equal('ok' in ok && ok.ok, true, 'a plain header is published (the runner handles the message)');
      const out = await new PublishTaskRunner(transport).run(ctx({ channel: 'run_container', message: {}, headers: { [h]: 'ops' } }));
      assert.equal(sent.length, 1, `published with ${h}: ${JSON.stringify(sent[1]?.opts?.headers)}`);
      assert.ok('ok' in out && !out.ok && out.error === 'States.Runtime' && out.cause.includes('headers'), JSON.stringify(out));
    });
  }
});

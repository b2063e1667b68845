/**
 * Reports from outside on a callback task (`bosun:publish.waitForTaskToken`), by its public
 * token: verify the token against its execution's key, check the task still waits, post the
 * event to the inbox. Success and failure share the task's report key with the runner's own
 * report, so the first report wins and a second one changes nothing.
 */
import { BosunError } from '../../domain/errors.js';
import type { WorkflowStore } from '../../ports/workflow-store.js';
import type { Json } from '../json.js';
import type { WorkflowEvent } from '../machine-types.js';
import { parseTaskToken, verifyTaskToken } from '../task-token.js';
import { reportKey } from './tasks.js';

export type TaskReport =
  | { type: 'TaskSucceeded'; output: Json }
  | { type: 'TaskFailed'; error: string; cause?: string }
  | { type: 'TaskHeartbeat' };

export interface ReportedTask {
  executionId: string;
  state: string;
}

const FIELD = 'task_token';
const invalid = (why: string): BosunError =>
  new BosunError('invalid_task_token', `task_token is not a valid task token: ${why}`, { field: FIELD, retryable: false });

/** Throws invalid_task_token (malformed, unknown, forged, not a callback task) or conflict (no longer waiting, already reported). */
export async function reportTask(store: WorkflowStore, publicToken: string, report: TaskReport): Promise<ReportedTask> {
  const parsed = parseTaskToken(publicToken);
  if (!parsed) throw invalid('expected <execution id>.<task>.<secret>, as the workflow published it in $$.Task.Token');
  const rec = await store.getExecution(parsed.executionId);
  const key = rec?.state?.taskTokenKey;
  // Unknown execution and wrong secret read the same: the answer must not help a guesser.
  if (!rec || key === undefined || !verifyTaskToken(key, parsed)) throw invalid('no task of any execution has this token (unknown or altered)');
  const closed = (why: string): BosunError =>
    new BosunError('conflict', `the task of this token is no longer waiting: ${why}; nothing changed`, { field: FIELD, retryable: false, details: { execution_id: rec.id, status: rec.status } });
  if (rec.status !== 'RUNNING') throw closed(`execution ${rec.id} already ended ${rec.status}`);
  const task = (await store.openTasks(rec.id)).find((t) => t.token === parsed.token);
  if (!task) throw closed('it was already reported, timed out or cancelled');
  if (!task.command.waitForTaskToken) throw invalid(`its task (state "${task.command.state}", ${task.command.resource}) does not wait for a task token`);
  const done: ReportedTask = { executionId: rec.id, state: task.command.state };
  if (report.type === 'TaskHeartbeat') {
    await store.postEvent(rec.id, { type: 'TaskHeartbeat', token: parsed.token });
    return done;
  }
  const event: WorkflowEvent = report.type === 'TaskSucceeded'
    ? { type: 'TaskSucceeded', token: parsed.token, output: report.output }
    : { type: 'TaskFailed', token: parsed.token, error: report.error, ...(report.cause !== undefined ? { cause: report.cause } : {}) };
  if (!(await store.postEvent(rec.id, event, reportKey(parsed.token)))) throw closed('it was already reported');
  return done;
}

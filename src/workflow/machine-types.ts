/**
 * The execution state, events, commands and history of the workflow machine. All plain
 * JSON: the execution is one row, events and history are rows, commands are what the
 * runner must carry out durably. `decide(execution, event, now)` is the only way to change
 * an execution, so replaying its events from the start gives the same row.
 */
import type { Definition } from './definition.js';
import type { Json, JsonObject } from './json.js';

export interface Limits {
  /** Largest input/output/result of a state, in bytes (default 256 KiB). */
  payloadBytes: number;
  /** Most history events per execution (default 25,000). */
  historyEvents: number;
}
export const DEFAULT_LIMITS: Limits = { payloadBytes: 256 * 1024, historyEvents: 25_000 };

export type Outcome = { ok: true; output: Json } | { ok: false; error: string; cause: string };

/** What a frame is blocked on, if anything. */
export type Waiting =
  | { kind: 'task'; token: string; timeoutTimer?: string; heartbeatTimer?: string; heartbeatSeconds?: number }
  | { kind: 'wait'; timer: string }
  | { kind: 'retry'; timer: string }
  | {
      kind: 'children';
      /** Frame id per branch / item; null = not started yet (Map above MaxConcurrency). */
      children: (string | null)[];
      /** Inputs of items not started yet, by index. */
      pendingInputs: Record<string, Json>;
      results: (Json | null)[];
      finished: number;
      failures: number;
      maxConcurrency: number;
      /** Map only; undefined = no failure tolerated (the item's own error is the Map's). */
      toleratedCount?: number;
      toleratedPercentage?: number;
    };

/** One running state-machine scope: the top level, a Parallel branch or a Map iteration. */
export interface Frame {
  id: string;
  parent?: { frame: string; index: number };
  /** Path of this scope's { StartAt, States } inside the definition. */
  scopePath: (string | number)[];
  /** JSONata variables visible here (a child starts with a copy of its parent's). */
  variables: JsonObject;
  state: string;
  /** The current state's raw input. */
  input: Json;
  enteredTime: string;
  /** Retries per Retrier of the current state, and their total ($$.State.RetryCount). */
  retryCounts: number[];
  retryCount: number;
  waiting?: Waiting;
}

export interface ExecutionState {
  id: string;
  name: string;
  definition: Definition;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  input: Json;
  startTime: string;
  output?: Json;
  error?: string;
  cause?: string;
  /** Seeded generator state (jitter, MathRandom, UUID): replay gives the same values. */
  rng: number;
  /** Last token / frame number handed out. */
  seq: number;
  historyLength: number;
  limits: Limits;
  executionTimer?: string;
  /** From the Started event: the key of this execution's public task tokens (never shown outside the store). */
  taskTokenKey?: string;
  frames: Record<string, Frame>;
  /** Tokens handed to the runner that are still outstanding → frame id. */
  tokens: Record<string, string>;
  /** Once FAILED: the top-level frame as it stood in the state that failed (where a redrive restarts). */
  failedFrame?: Frame;
}

export type WorkflowEvent =
  | {
      type: 'Started'; executionId: string; name?: string; definition: Definition; input: Json; seed?: number; limits?: Partial<Limits>;
      /** Signs the public task tokens of `$$.Task.Token` (src/workflow/task-token.ts); without it the token is the bare machine token. */
      taskTokenKey?: string;
    }
  | { type: 'TaskSucceeded'; token: string; output: Json }
  | { type: 'TaskFailed'; token: string; error: string; cause?: string }
  | { type: 'TaskHeartbeat'; token: string }
  | { type: 'TimerFired'; token: string };

export type Command =
  | {
      type: 'ScheduleTask';
      token: string;
      resource: string;
      parameters: Json;
      /** The state's input after InputPath (JSONPath) or the raw input (JSONata): a container task's BOSUN_INPUT. */
      input: Json;
      /** 1 for the first try, 2 for the first retry… */
      attempt: number;
      timeoutSeconds?: number;
      heartbeatSeconds?: number;
      /** `.waitForTaskToken`: the task's own completion does not end the state; a later report with the token does. */
      waitForTaskToken: boolean;
      state: string;
    }
  | { type: 'CancelTask'; token: string }
  | { type: 'StartTimer'; token: string; at: string }
  | { type: 'CancelTimer'; token: string }
  | { type: 'CompleteExecution'; status: 'SUCCEEDED' | 'FAILED'; output?: Json; error?: string; cause?: string };

export interface HistoryEvent {
  type: string;
  timestamp: string;
  [field: string]: Json | undefined;
}

export interface Decision {
  execution: ExecutionState;
  commands: Command[];
  history: HistoryEvent[];
}

/**
 * ASL errors: a name (`States.*` or bosun's own `bosun.*`) and a cause. Thrown inside the
 * pure core and turned into Retry/Catch handling by the machine; never seen by callers.
 */
export const States = {
  ALL: 'States.ALL',
  Timeout: 'States.Timeout',
  HeartbeatTimeout: 'States.HeartbeatTimeout',
  TaskFailed: 'States.TaskFailed',
  Permissions: 'States.Permissions',
  Runtime: 'States.Runtime',
  DataLimitExceeded: 'States.DataLimitExceeded',
  ResultPathMatchFailure: 'States.ResultPathMatchFailure',
  ParameterPathFailure: 'States.ParameterPathFailure',
  QueryEvaluationError: 'States.QueryEvaluationError',
  BranchFailed: 'States.BranchFailed',
  NoChoiceMatched: 'States.NoChoiceMatched',
  IntrinsicFailure: 'States.IntrinsicFailure',
  ExceedToleratedFailureThreshold: 'States.ExceedToleratedFailureThreshold',
  ItemReaderFailed: 'States.ItemReaderFailed',
} as const;

export const Bosun = {
  NonZeroExit: 'bosun.NonZeroExit',
  ImageNotFound: 'bosun.ImageNotFound',
  PolicyDenied: 'bosun.PolicyDenied',
  /** A run quota of the execution's starter (runs_per_minute…) refused a task. */
  QuotaExceeded: 'bosun.QuotaExceeded',
  HistoryLimitExceeded: 'bosun.HistoryLimitExceeded',
  StackFailed: 'bosun.StackFailed',
  ServiceNotFound: 'bosun.ServiceNotFound',
  ClusterUnavailable: 'bosun.ClusterUnavailable',
  ClusterRefused: 'bosun.ClusterRefused',
} as const;

/**
 * Errors `States.ALL` does not match (AWS: "a States.Runtime error … won't be caught by
 * States.ALL"; States.DataLimitExceeded likewise). They can still be named explicitly.
 */
export const NOT_MATCHED_BY_ALL: ReadonlySet<string> = new Set([States.Runtime, States.DataLimitExceeded]);

export class StatesError extends Error {
  readonly error: string;
  readonly causeText: string;
  constructor(error: string, cause: string) {
    super(`${error}: ${cause}`);
    this.name = 'StatesError';
    this.error = error;
    this.causeText = cause;
  }
}

export function isStatesError(e: unknown): e is StatesError {
  return e instanceof StatesError;
}

/**
 * The engine adapters' book of prepared execs: each is started once, and with stdin exactly when
 * it was made to take it. Docker answers neither mistake clearly (a second start returns the first
 * one's exit code; stdin given to an exec made without it is dropped, and one made with it and
 * started without waits for input forever), so both adapters refuse them, as caller bugs.
 */
import type { ExecRequest, PreparedExec } from '../domain/engine/index.js';

export class PreparedExecs {
  private readonly made = new WeakMap<PreparedExec, { stdin: boolean; started: boolean }>();

  record(req: ExecRequest, prepared: PreparedExec): PreparedExec {
    this.made.set(prepared, { stdin: req.stdin !== undefined, started: false });
    return prepared;
  }

  /** Marks it started; throws on a second start, an exec this adapter did not make, or a stdin that does not match its making. */
  start(prepared: PreparedExec, req: ExecRequest): void {
    const m = this.made.get(prepared);
    if (!m) throw new Error(`exec ${prepared.id} was not prepared by this engine`);
    if (m.started) throw new Error(`exec ${prepared.id} was started already (a prepared exec starts once)`);
    if (m.stdin !== (req.stdin !== undefined)) throw new Error(`exec ${prepared.id} was made ${m.stdin ? 'with' : 'without'} stdin and started ${m.stdin ? 'without' : 'with'} it`);
    m.started = true;
  }
}

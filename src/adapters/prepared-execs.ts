/**
 * The engine adapters' book of prepared execs: each is started once, and with stdin exactly when
 * it was made to take it. Docker answers neither mistake clearly (a second start returns the first
 * one's exit code; stdin given to an exec made without it is dropped, and one made with it and
 * started without waits for input forever), so both adapters refuse them, as caller bugs.
 */
import type { ExecRequest, PreparedExec } from '../domain/engine/index.js';

/** `T`: what an adapter keeps of each making besides (the fake: its container and command). */
export class PreparedExecs<T = undefined> {
  private readonly made = new WeakMap<PreparedExec, { stdin: boolean; started: boolean; kept: T }>();

  record(req: ExecRequest, prepared: PreparedExec, kept: T): PreparedExec {
    this.made.set(prepared, { stdin: req.stdin !== undefined, started: false, kept });
    return prepared;
  }

  /** Marks it started and gives what was kept; throws on a second start, an exec this adapter did not make, or a stdin that does not match its making. */
  start(prepared: PreparedExec, req: ExecRequest): T {
    const m = this.made.get(prepared);
    if (!m) throw new Error(`exec ${prepared.id} was not prepared by this engine`);
    if (m.started) throw new Error(`exec ${prepared.id} was started already (a prepared exec starts once)`);
    if (m.stdin !== (req.stdin !== undefined)) throw new Error(`exec ${prepared.id} was made ${m.stdin ? 'with' : 'without'} stdin and started ${m.stdin ? 'without' : 'with'} it`);
    m.started = true;
    return m.kept;
  }
}

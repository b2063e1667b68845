/**
 * One decision in progress: a private copy of the execution plus the commands and history
 * it produces. Tokens, frame ids and random numbers come from counters kept in the
 * execution, so the same events always give the same values.
 */
import type { Definition } from './definition.js';
import { isObject, type Json, type JsonObject } from './json.js';
import type { Command, ExecutionState, Frame, HistoryEvent } from './machine-types.js';
import { nextRandom } from './random.js';
import { indexStates, type Located, type Scope } from './walk.js';

const indexCache = new WeakMap<Definition, Map<string, Located>>();

export class Step {
  readonly commands: Command[] = [];
  readonly history: HistoryEvent[] = [];
  /** Tokens handed out during this decision (dropped again if the history limit ends it). */
  readonly newTokens = new Set<string>();
  readonly states: Map<string, Located>;

  constructor(readonly exec: ExecutionState, readonly now: number) {
    let idx = indexCache.get(exec.definition);
    if (!idx) { idx = indexStates(exec.definition); indexCache.set(exec.definition, idx); }
    this.states = idx;
  }

  get nowIso(): string { return new Date(this.now).toISOString(); }

  emit(type: string, fields: Record<string, Json | undefined> = {}): void {
    this.history.push({ type, timestamp: this.nowIso, ...fields });
  }

  command(c: Command): void { this.commands.push(c); }

  nextId(prefix: string): string {
    this.exec.seq += 1;
    const id = `${prefix}${this.exec.seq}`;
    this.newTokens.add(id);
    return id;
  }

  readonly random = (): number => {
    const r = nextRandom(this.exec.rng);
    this.exec.rng = r.state;
    return r.value;
  };

  state(name: string): JsonObject {
    const l = this.states.get(name);
    if (!l) throw new Error(`no state "${name}" in the definition`);
    return l.state;
  }

  scopeOf(frame: Frame): Scope {
    let node: Json = this.exec.definition;
    for (const seg of frame.scopePath) node = (node as Record<string | number, Json>)[seg as never] ?? null;
    return node as unknown as Scope;
  }

  queryLanguage(state: JsonObject): 'JSONPath' | 'JSONata' {
    const q = state.QueryLanguage ?? this.exec.definition.QueryLanguage;
    return q === 'JSONata' ? 'JSONata' : 'JSONPath';
  }

  /** The context object (`$$` / `$states.context`) for the frame's current state. */
  context(frame: Frame, extra: JsonObject = {}): JsonObject {
    const ctx: JsonObject = {
      Execution: { Id: this.exec.id, Name: this.exec.name, Input: this.exec.input, StartTime: this.exec.startTime },
      StateMachine: { Name: typeof this.exec.definition.Comment === 'string' ? this.exec.definition.Comment : '' },
      State: { Name: frame.state, EnteredTime: frame.enteredTime, RetryCount: frame.retryCount },
    };
    for (const [k, v] of Object.entries(extra)) ctx[k] = isObject(v) && isObject(ctx[k]) ? { ...ctx[k], ...v } : v;
    return ctx;
  }
}

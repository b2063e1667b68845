/**
 * A state's input and output processing in both query languages.
 * JSONPath: InputPath → Parameters/ItemSelector → (work) → ResultSelector → ResultPath → OutputPath.
 * JSONata:  Arguments (with $states.input) → (work) → Output and Assign (with $states.result).
 */
import { States, StatesError } from './errors.js';
import { evaluateAssign, evaluateTemplate, type JsonataEnv } from './jsonata.js';
import { byteSize, type Json, type JsonObject } from './json.js';
import type { Frame } from './machine-types.js';
import { applyResultPath, requirePath, resolveTemplate } from './paths.js';
import type { Step } from './step.js';

export function checkSize(step: Step, value: Json, what: string): Json {
  const size = byteSize(value);
  if (size > step.exec.limits.payloadBytes) {
    throw new StatesError(States.DataLimitExceeded, `${what} is ${size} bytes, over the limit of ${step.exec.limits.payloadBytes} bytes`);
  }
  return value;
}

export function jsonataEnv(step: Step, frame: Frame, extra: Partial<JsonataEnv['states']> = {}, ctxExtra: JsonObject = {}): JsonataEnv {
  return { states: { input: frame.input, context: step.context(frame, ctxExtra), ...extra }, variables: frame.variables, random: step.random };
}

/** JSONPath InputPath: `$` by default, null gives {}. */
export function afterInputPath(step: Step, frame: Frame, state: JsonObject): Json {
  if (state.InputPath === null) return {};
  if (typeof state.InputPath !== 'string') return frame.input;
  return requirePath(state.InputPath, frame.input, 'InputPath', step.context(frame));
}

/** What the state works on: JSONPath InputPath + `template` (Parameters), or JSONata `template` (Arguments). */
export async function effectiveInput(step: Step, frame: Frame, state: JsonObject, template: Json | undefined, ctxExtra: JsonObject = {}): Promise<Json> {
  if (step.queryLanguage(state) === 'JSONata') {
    if (template === undefined) return frame.input;
    return evaluateTemplate(template, jsonataEnv(step, frame, {}, ctxExtra), 'Arguments');
  }
  const input = afterInputPath(step, frame, state);
  if (template === undefined) return input;
  return resolveTemplate(template, input, step.context(frame, ctxExtra), { random: step.random });
}

/**
 * The state's output from its `result` (a task's result, a Pass state's Result, the array of
 * branch/item outputs); undefined result = the state has none (Pass without Result, Wait,
 * Succeed). Updates the frame's variables (JSONata Assign).
 */
export async function stateOutput(step: Step, frame: Frame, state: JsonObject, result: Json | undefined, effective?: Json): Promise<Json> {
  if (step.queryLanguage(state) === 'JSONata') {
    const env = jsonataEnv(step, frame, result === undefined ? {} : { result });
    const output = state.Output !== undefined ? await evaluateTemplate(state.Output, env, 'Output') : (result ?? frame.input);
    frame.variables = await evaluateAssign(state.Assign, env);
    return checkSize(step, output, `the output of state "${frame.state}"`);
  }
  let r: Json = result ?? effective ?? frame.input;
  if (result !== undefined && state.ResultSelector !== undefined) r = resolveTemplate(state.ResultSelector, result, step.context(frame), { random: step.random });
  const hasResultPath = 'ResultPath' in state && (result !== undefined || state.Type === 'Pass');
  const afterResult = hasResultPath ? applyResultPath(frame.input, state.ResultPath as string | null, r) : r;
  const out = state.OutputPath === null ? {} : typeof state.OutputPath === 'string' ? requirePath(state.OutputPath, afterResult, 'OutputPath', step.context(frame)) : afterResult;
  return checkSize(step, out, `the output of state "${frame.state}"`);
}

/** A Catcher's output: JSONPath ResultPath over the raw input, or JSONata Output/Assign with $states.errorOutput. */
export async function catchOutput(step: Step, frame: Frame, state: JsonObject, catcher: JsonObject, errorOutput: JsonObject): Promise<Json> {
  if (step.queryLanguage(state) === 'JSONata') {
    const env = jsonataEnv(step, frame, { errorOutput });
    const output = catcher.Output !== undefined ? await evaluateTemplate(catcher.Output, env, 'Catch.Output') : errorOutput;
    frame.variables = await evaluateAssign(catcher.Assign, env);
    return output;
  }
  return applyResultPath(frame.input, 'ResultPath' in catcher ? (catcher.ResultPath as string | null) : '$', errorOutput);
}

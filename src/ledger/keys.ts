/**
 * Effect keys, `<workflowId>/<step>#<firstExecutionRunId>`: the one place that builds and reads
 * them (docs/architecture.md, effect keys). Retries, crashes and resets keep a step's key; a new
 * run gets new keys. Pure: workflow code builds keys with it (see eslint.config.js).
 */
import { controlCharacters } from '../single-line-text.ts';

/** Temporal's default limit for workflow ids. */
export const maxWorkflowIdLength = 1000;
/** The part after the workflow id: `<step>#<firstExecutionRunId>`. */
export const maxStepLength = 200;

/** A step, and a run id: letters, digits and . _ : - (starting with a letter or digit). */
const partPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

export interface ParsedEffectKey {
  workflowId: string;
  /** e.g. `add-credit` */
  step: string;
  firstExecutionRunId: string;
  /** Everything after the workflow id (`add-credit#<run>`): what the ledger stores as the step. */
  tail: string;
}

/** A malformed key; the ledger reports it as invalid input. */
export class EffectKeyError extends Error {
  override readonly name = 'EffectKeyError';
}

export function effectKey(workflowId: string, step: string, firstExecutionRunId: string): string {
  const key = `${workflowId}/${step}#${firstExecutionRunId}`;
  const parsed = parseEffectKey(key);
  if (parsed.step !== step || parsed.firstExecutionRunId !== firstExecutionRunId) {
    throw new EffectKeyError(`Effect key ${JSON.stringify(key)}: the step and run id must not contain "/" or "#".`);
  }
  return key;
}

/** Splits a key at the last `/` (workflow ids may contain slashes, steps do not), then the tail at `#`. */
export function parseEffectKey(key: string): ParsedEffectKey {
  if (typeof key !== 'string' || key.length === 0) {
    throw new EffectKeyError('Effect key is empty: expected "<workflowId>/<step>#<firstExecutionRunId>".');
  }
  const shown = JSON.stringify(key.length > 120 ? `${key.slice(0, 120)}...` : key);
  const slash = key.lastIndexOf('/');
  if (slash <= 0 || slash === key.length - 1) {
    throw new EffectKeyError(`Effect key ${shown} is not "<workflowId>/<step>#<firstExecutionRunId>": the workflow id and the step must be non-empty.`);
  }
  const workflowId = key.slice(0, slash);
  const tail = key.slice(slash + 1);
  if (workflowId.length > maxWorkflowIdLength) {
    throw new EffectKeyError(`Effect key ${shown}: the workflow id is ${workflowId.length} characters, more than ${maxWorkflowIdLength}.`);
  }
  if (controlCharacters.test(workflowId) || workflowId.trim() !== workflowId) {
    throw new EffectKeyError(`Effect key ${shown}: the workflow id has control or invisible format characters, or surrounding spaces.`);
  }
  const hash = tail.indexOf('#');
  const step = tail.slice(0, hash);
  const firstExecutionRunId = tail.slice(hash + 1);
  if (hash === -1 || tail.length > maxStepLength || !partPattern.test(step) || !partPattern.test(firstExecutionRunId)) {
    throw new EffectKeyError(
      `Effect key ${shown}: ${JSON.stringify(tail)} must be a step and a run id, "<step>#<firstExecutionRunId>", 1-${maxStepLength} characters of ` +
        'letters, digits and . _ : - (each starting with a letter or digit).',
    );
  }
  return { workflowId, step, firstExecutionRunId, tail };
}

export function stepOfEffectKey(key: string): string {
  return parseEffectKey(key).step;
}

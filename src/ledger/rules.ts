/** The ledger's rules that need no database: state transitions and what may be stored (strict JSON, no secrets). */
import { controlCharacters } from '../single-line-text.ts';
import { InvalidLedgerInputError } from './errors.ts';
import { effectStates } from './types.ts';
import type { EffectState, JsonValue } from './types.ts';
import { EffectKeyError, maxWorkflowIdLength, parseEffectKey as parseKey } from './keys.ts';
import type { ParsedEffectKey } from './keys.ts';

const maxIdentifierLength = 200;
export const maxNoteLength = 10_000;
/** A stored JSON document larger than this is not a business request or API answer. */
const maxJsonChars = 1_000_000;

/** What each state may become (docs/architecture.md, "The effect ledger"); a final state, nothing. */
export const allowedEffectTransitions: Readonly<Record<EffectState, readonly EffectState[]>> = Object.freeze({
  pending: ['applied', 'rejected', 'unknown', 'resolved-applied', 'resolved-not-applied'],
  unknown: ['resolved-applied', 'resolved-not-applied'],
  'resolved-not-applied': ['pending'],
  applied: [],
  rejected: ['pending'],
  'resolved-applied': [],
});

export function isFinalEffectState(state: EffectState): boolean {
  return allowedEffectTransitions[state].length === 0;
}

export function assertEffectState(state: EffectState): void {
  if (!effectStates.includes(state)) {
    throw new InvalidLedgerInputError(`${JSON.stringify(state)} is not an effect state (one of ${effectStates.join(', ')}).`);
  }
}

// Printable, no whitespace other than a plain space, no control characters (../single-line-text.ts).
const kindPattern = /^[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*$/;

/** ./keys.ts's parseEffectKey; a malformed key is invalid ledger input. */
export function parseEffectKey(key: string): ParsedEffectKey {
  try {
    return parseKey(key);
  } catch (error) {
    if (error instanceof EffectKeyError) throw new InvalidLedgerInputError(error.message);
    throw error;
  }
}

export function assertKind(kind: string): void {
  assertDottedName(kind, 'Effect kind', 64);
}

/** Lower-case words joined by . _ or - (`credit.add`, `operator.decision`). */
export function assertDottedName(value: string, what: string, maxLength: number): void {
  if (typeof value !== 'string' || value.length > maxLength || !kindPattern.test(value)) {
    throw new InvalidLedgerInputError(
      `${what} ${describe(value)} must be 1-${maxLength} characters of lower-case words joined by . _ or - (like "credit.add").`,
    );
  }
}

export function assertWorkflowId(workflowId: string): void {
  assertIdentifier(workflowId, 'Workflow id', maxWorkflowIdLength);
}

/** A short identifier (owner, actor, run id, business key): printable and bounded. */
export function assertIdentifier(value: string, what: string, maxLength = maxIdentifierLength): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw new InvalidLedgerInputError(`${what} must be a string of 1-${maxLength} characters, got ${describe(value)}.`);
  }
  if (controlCharacters.test(value) || value.trim() !== value) {
    throw new InvalidLedgerInputError(`${what} ${describe(value)} has control or invisible format characters, or surrounding spaces.`);
  }
}

export function optionalIdentifier(value: string | undefined, what: string): string | null {
  if (value === undefined) return null;
  assertIdentifier(value, what);
  return value;
}

/** Store user ids are kept as decimal strings, so that JustClick-style string ids fit too. */
export function normalizeUserId(userId: string | number): string {
  if (typeof userId === 'number') {
    if (!Number.isSafeInteger(userId) || userId < 0) {
      throw new InvalidLedgerInputError(`Store user id ${userId} is not a non-negative whole number.`);
    }
    return String(userId);
  }
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > 128 || /\s/u.test(userId) || controlCharacters.test(userId)) {
    throw new InvalidLedgerInputError(
      `Store user id ${describe(userId)} must be a number or a string of 1-128 characters without spaces.`,
    );
  }
  return userId;
}

export function optionalUserId(userId: string | number | null | undefined): string | null {
  return userId === undefined || userId === null ? null : normalizeUserId(userId);
}

export function assertNote(text: string): void {
  if (typeof text !== 'string' || text.trim().length === 0 || text.length > maxNoteLength) {
    throw new InvalidLedgerInputError(`A note must be non-empty text of at most ${maxNoteLength} characters.`);
  }
}

/** Property names that may carry secrets: the ledger refuses them anywhere in stored JSON. */
const secretLikeName = /secret|passw(or)?d|signature|authorization|api[_-]?key|private[_-]?key|^key$/i;

/**
 * Serializes a JSON value exactly, refusing what JSON would silently change (non-finite numbers,
 * bigint, functions, class instances, cycles) and property names that look like secrets.
 */
export function toJsonText(value: JsonValue, what: string): string {
  checkJson(value, what, '$', new Set());
  const text = JSON.stringify(value);
  if (text.length > maxJsonChars) {
    throw new InvalidLedgerInputError(`${what} is ${text.length} characters of JSON, more than ${maxJsonChars}.`);
  }
  return text;
}

export function optionalJsonText(value: JsonValue | undefined, what: string): string | null {
  return value === undefined ? null : toJsonText(value, what);
}

function checkJson(value: unknown, what: string, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new InvalidLedgerInputError(`${what} has ${value} at ${path}: JSON cannot hold it (it would become null).`);
      }
      return;
    case 'object': {
      if (value === null) return;
      if (ancestors.has(value)) throw new InvalidLedgerInputError(`${what} refers to itself at ${path}.`);
      ancestors.add(value);
      if (Array.isArray(value)) {
        value.forEach((item: unknown, index) => {
          if (item === undefined) {
            throw new InvalidLedgerInputError(`${what} has undefined at ${path}[${index}]: use null.`);
          }
          checkJson(item, what, `${path}[${index}]`, ancestors);
        });
      } else {
        const prototype: unknown = Object.getPrototypeOf(value);
        if (prototype !== Object.prototype && prototype !== null) {
          throw new InvalidLedgerInputError(
            `${what} has a non-plain object at ${path}: pass plain JSON (convert dates to ISO strings, errors to their toJSON()).`,
          );
        }
        for (const [name, item] of Object.entries(value)) {
          if (secretLikeName.test(name)) {
            throw new InvalidLedgerInputError(
              `${what} has a property named ${JSON.stringify(name)} at ${path}: secrets, keys and signatures never go in the ledger. Store only business fields.`,
            );
          }
          if (item !== undefined) checkJson(item, what, `${path}.${name}`, ancestors);
        }
      }
      ancestors.delete(value);
      return;
    }
    default:
      throw new InvalidLedgerInputError(`${what} has a ${typeof value} at ${path}: only JSON values can be stored.`);
  }
}

export function clampLimit(limit: number | undefined, what: string): number {
  if (limit === undefined) return 1000;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) {
    throw new InvalidLedgerInputError(`${what} limit must be a whole number from 1 to 10000, got ${limit}.`);
  }
  return limit;
}

export function assertDuration(value: number, what: string, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidLedgerInputError(`${what} must be a whole number of milliseconds from ${min} to ${max}, got ${value}.`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
  return typeof value;
}

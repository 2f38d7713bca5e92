/** Reading the environment for ./config.ts: {@link Secret}, the reader that collects every problem, URL checks. */
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import type { ConfigVariable } from './config-variables.ts';

type VariableRules = Pick<ConfigVariable, 'required' | 'secret' | 'fileVariant'>;

const redacted = '[redacted]';

/** A secret value that never prints itself. Call `reveal()` where the value is really needed. */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    Object.freeze(this);
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return redacted;
  }

  toJSON(): string {
    return redacted;
  }

  [Symbol.toPrimitive](): string {
    return redacted;
  }

  [inspect.custom](): string {
    return redacted;
  }
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** Collects problems while reading the variables of ./config-variables.ts, so that all of them are reported at once. */
export class EnvReader {
  readonly problems: string[] = [];
  readonly environment: Environment;
  readonly #variable: (name: string) => VariableRules;

  /** `variable` looks a variable up in the table (passed in: the table imports what imports this module). */
  constructor(environment: Environment, variable: (name: string) => VariableRules) {
    this.environment = environment;
    this.#variable = variable;
  }

  /** Records a problem; returns undefined, so that `return reader.problem(...)` records it and gives up. */
  problem(text: string): undefined {
    this.problems.push(text);
    return undefined;
  }

  /** The value, or undefined when unset or empty (an empty `NAME=` line means "not set"). */
  raw(name: string): string | undefined {
    const value = this.environment[name];
    return value === undefined || value === '' ? undefined : value;
  }

  isSet(name: string): boolean {
    return this.raw(name) !== undefined || (this.#variable(name).fileVariant && this.raw(`${name}_FILE`) !== undefined);
  }

  /** Reads `name` (or the file `name_FILE` names); on a problem records it, never the value, and returns undefined. */
  read(name: string, neededFor: string): string | undefined {
    const { required, secret, fileVariant } = this.#variable(name);
    const fileName = `${name}_FILE`;
    const filePath = fileVariant ? this.raw(fileName) : undefined;
    let value = this.raw(name);
    let source = 'the environment';
    if (value !== undefined && filePath !== undefined) return this.problem(`${name} and ${fileName} are both set; set only one of them.`);
    if (filePath !== undefined) {
      source = `the file ${filePath} (from ${fileName})`;
      try {
        value = readFileSync(filePath, 'utf8').replace(/(?:\r?\n)+$/, '');
      } catch (error) {
        return this.problem(
          `${fileName} names the file ${filePath}, which cannot be read (${errorCode(error)}); fix the path or the file's permissions.`,
        );
      }
      if (value === '') return this.problem(`${source} is empty; it must hold the value of ${name}.`);
    }
    if (value === undefined) {
      if (required) {
        const how = fileVariant ? `set ${name} (or ${fileName}, the path of a file holding it)` : `set ${name}`;
        this.problem(`${name} is not set; it is required for ${neededFor}: ${how}.`);
      }
      return undefined;
    }
    if (value.trim() !== value) {
      const shown = secret ? '' : ` (${JSON.stringify(value)})`;
      return this.problem(`${name} from ${source} has leading or trailing whitespace${shown}; remove it.`);
    }
    return value;
  }
}

/** localhost, 127.0.0.0/8 or ::1 (with or without brackets). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** `text` as a port number (0-65535), or undefined. */
export function parsePort(text: string): number | undefined {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  return port <= 65535 ? port : undefined;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The `code` of a failed file read (ENOENT, EACCES, ...), for messages. */
export function errorCode(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'unreadable';
}

/** https (http for loopback hosts), no credentials, query or fragment; the URL without a trailing slash. */
export function checkHttpUrl(reader: EnvReader, name: string, value: string, example: string): string | undefined {
  const url = URL.parse(value);
  if (url === null) return reader.problem(`${name} is not a valid URL (${JSON.stringify(value)}); write a full URL such as ${example}.`);
  if (url.username !== '' || url.password !== '') {
    // The value is not repeated: it contains a password.
    return reader.problem(`${name} contains a user name or password; remove them from the URL (credentials have their own variables).`);
  }
  const problemsBefore = reader.problems.length;
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    reader.problem(
      `${name} uses http (${value}); use https. ` +
        'Plain http is allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1), such as the local simulators.',
    );
  } else if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    reader.problem(`${name} must be an https URL (${JSON.stringify(value)}), e.g. ${example}.`);
  }
  if (url.search !== '' || url.hash !== '') {
    reader.problem(`${name} must not contain a query string or fragment (${value}); write the URL up to its path, e.g. ${example}.`);
  }
  return reader.problems.length > problemsBefore ? undefined : value.replace(/\/+$/, '');
}

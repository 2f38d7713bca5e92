/** Reading the environment for ./config.ts: {@link Secret}, the reader that collects every problem, URL checks. */
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';

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

/** Collects problems while reading variables, so that all of them are reported at once. */
export class EnvReader {
  readonly problems: string[] = [];
  readonly #env: Readonly<Record<string, string | undefined>>;

  constructor(env: Readonly<Record<string, string | undefined>>) {
    this.#env = env;
  }

  get environment(): Readonly<Record<string, string | undefined>> {
    return this.#env;
  }

  problem(text: string): void {
    this.problems.push(text);
  }

  /** The value, or undefined when unset or empty (an empty `NAME=` line means "not set"). */
  raw(name: string): string | undefined {
    const value = this.#env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  isSet(name: string, fileVariant = false): boolean {
    return this.raw(name) !== undefined || (fileVariant && this.raw(`${name}_FILE`) !== undefined);
  }

  /** Reads `name` (or the file `name_FILE` names); on a problem records it, never the value, and returns undefined. */
  read(name: string, options: { required: boolean; secret: boolean; fileVariant: boolean; neededFor: string }): string | undefined {
    const fileName = `${name}_FILE`;
    const direct = this.raw(name);
    const filePath = options.fileVariant ? this.raw(fileName) : undefined;
    let value = direct;
    let source = name;
    if (direct !== undefined && filePath !== undefined) {
      this.problem(`${name} and ${fileName} are both set; set only one of them.`);
      return undefined;
    }
    if (filePath !== undefined) {
      source = `the file ${filePath} (from ${fileName})`;
      try {
        value = readFileSync(filePath, 'utf8').replace(/(?:\r?\n)+$/, '');
      } catch (error) {
        const reason = errorCode(error);
        this.problem(`${fileName} names the file ${filePath}, which cannot be read (${reason}); fix the path or the file's permissions.`);
        return undefined;
      }
      if (value === '') {
        this.problem(`${source} is empty; it must hold the value of ${name}.`);
        return undefined;
      }
    }
    if (value === undefined) {
      if (options.required) {
        const how = options.fileVariant ? `set ${name} (or ${fileName}, the path of a file holding it)` : `set ${name}`;
        this.problem(`${name} is not set; it is required for ${options.neededFor}: ${how}.`);
      }
      return undefined;
    }
    if (value.trim() !== value) {
      const shown = options.secret ? '' : ` (${JSON.stringify(value)})`;
      this.problem(`${name} from ${source === name ? 'the environment' : source} has leading or trailing whitespace${shown}; remove it.`);
      return undefined;
    }
    return value;
  }
}

/** localhost, 127.0.0.0/8 or ::1 (with or without brackets). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
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
  if (url === null) {
    reader.problem(`${name} is not a valid URL (${JSON.stringify(value)}); write a full URL such as ${example}.`);
    return undefined;
  }
  if (url.username !== '' || url.password !== '') {
    // The value is not repeated: it contains a password.
    reader.problem(`${name} contains a user name or password; remove them from the URL (credentials have their own variables).`);
    return undefined;
  }
  let ok = true;
  if (url.protocol === 'http:') {
    if (!isLoopbackHost(url.hostname)) {
      reader.problem(
        `${name} uses http (${value}); use https. Plain http is allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1), such as the local simulators.`,
      );
      ok = false;
    }
  } else if (url.protocol !== 'https:') {
    reader.problem(`${name} must be an https URL (${JSON.stringify(value)}), e.g. ${example}.`);
    ok = false;
  }
  if (url.search !== '' || url.hash !== '') {
    reader.problem(`${name} must not contain a query string or fragment (${value}); write the URL up to its path, e.g. ${example}.`);
    ok = false;
  }
  if (!ok) return undefined;
  return value.replace(/\/+$/, '');
}

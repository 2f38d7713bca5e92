/**
 * Fault injection shared by both simulators: a fault applies to the next `count` calls of one
 * operation, or `*` for any, in the order added. `error` and `http-status` commit nothing; the
 * other kinds handle the call, then delay, drop, truncate or (JustClick) mis-sign the answer.
 */

const faultKinds = ['error', 'http-status', 'latency', 'apply-then-drop', 'broken-json', 'wrong-hash'] as const;

export type FaultKind = (typeof faultKinds)[number];

export type Fault = { operation: string; count: number } & (
  | {
      kind: 'error';
      /** WebTV: the `error` code (`ERROR_NO_ORDER`); JustClick: the numeric `error_code` as text. */
      code: string;
      /** Default: the documented text for the code. */
      text?: string | undefined;
    }
  | { kind: 'http-status'; status: number; body?: string | undefined; contentType?: string | undefined }
  | { kind: 'latency'; ms: number }
  | { kind: 'apply-then-drop' | 'broken-json' | 'wrong-hash' }
);

export type ErrorFault = Extract<Fault, { kind: 'error' }>;

export class InvalidFaultError extends Error {
  override readonly name = 'InvalidFaultError';
}

/** Validates a fault from the admin API or a test; lists every problem. */
export function parseFault(input: unknown, knownOperations: readonly string[], supportedKinds: readonly FaultKind[] = faultKinds): Fault {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidFaultError('a fault is a JSON object such as {"operation":"cancel_order","kind":"error","code":"ERROR"}');
  }
  const raw = input as Record<string, unknown>;
  const problems: string[] = [];
  const operation = raw['operation'] ?? '*';
  if (typeof operation !== 'string' || (operation !== '*' && !knownOperations.includes(operation))) {
    problems.push(`operation must be "*" or one of ${knownOperations.join(', ')}; got ${JSON.stringify(operation)}`);
  }
  const count = raw['count'] ?? 1;
  if (!Number.isInteger(count) || (count as number) < 1 || (count as number) > 10_000) {
    problems.push(`count must be a whole number from 1 to 10000; got ${JSON.stringify(count)}`);
  }
  const kind = raw['kind'];
  if (typeof kind !== 'string' || !supportedKinds.includes(kind as FaultKind)) {
    problems.push(`kind must be one of ${supportedKinds.join(', ')}; got ${JSON.stringify(kind)}`);
  }
  if (kind === 'error') {
    const code = raw['code'];
    if (typeof code !== 'string' && typeof code !== 'number') problems.push('an error fault needs "code"');
    if (raw['text'] !== undefined && typeof raw['text'] !== 'string') problems.push('"text" must be a string');
  }
  if (kind === 'http-status') {
    const status = raw['status'];
    if (!Number.isInteger(status) || (status as number) < 100 || (status as number) > 599) {
      problems.push(`an http-status fault needs "status" from 100 to 599; got ${JSON.stringify(status)}`);
    }
    if (raw['body'] !== undefined && typeof raw['body'] !== 'string') problems.push('"body" must be a string');
    if (raw['contentType'] !== undefined && typeof raw['contentType'] !== 'string') problems.push('"contentType" must be a string');
  }
  if (kind === 'latency') {
    const ms = raw['ms'];
    if (!Number.isInteger(ms) || (ms as number) < 0 || (ms as number) > 600_000) {
      problems.push(`a latency fault needs "ms" from 0 to 600000; got ${JSON.stringify(ms)}`);
    }
  }
  if (problems.length > 0) throw new InvalidFaultError(`invalid fault: ${problems.join('; ')}`);
  const details =
    kind === 'error' ? { code: String(raw['code']), text: raw['text'] }
    : kind === 'http-status' ? { status: raw['status'], body: raw['body'], contentType: raw['contentType'] }
    : kind === 'latency' ? { ms: raw['ms'] }
    : {};
  return { operation, count, kind, ...details } as Fault;
}

export class FaultPlan {
  private readonly pending: Fault[] = [];

  add(fault: Fault): void {
    this.pending.push({ ...fault });
  }

  /** Takes one use of the first fault matching the operation, if any. */
  take(operation: string): Fault | undefined {
    const index = this.pending.findIndex((fault) => fault.operation === '*' || fault.operation === operation);
    if (index < 0) return undefined;
    const fault = this.pending[index]!;
    fault.count -= 1;
    if (fault.count <= 0) this.pending.splice(index, 1);
    return { ...fault, count: 1 };
  }

  list(): Fault[] {
    return this.pending.map((fault) => ({ ...fault }));
  }

  clear(): void {
    this.pending.length = 0;
  }
}

/** Business keys (docs/money-rules.md): each startable workflow's id template, a run's check of its own id, one-effect-per-order keys. */

/** Separator between the parts of a business key. */
export const idSeparator = ':';

/** `{field}` comes from the input. */
export const idTemplates = {
  refundAndCancel: 'refund-and-cancel:{userId}:{orderId}',
  processPaidOrder: 'process-paid-order:{userId}:{orderId}',
  adjustCredit: 'adjust-credit:{userId}:{requestId}',
  cancelOrder: 'cancel-order:{userId}:{orderId}',
} as const;

export type StartableWorkflowType = keyof typeof idTemplates;

/** Every workflow type orderflow's worker runs. */
export const knownWorkflowTypes: readonly string[] = [...Object.keys(idTemplates), 'bulkRun', 'reconcile', 'reconcileFinding'];

/** An adjustment's `requestId` when it has none (src/client/workflow-ids.ts): sha256 of the JSON of these values, first hex digits. */
export const adjustmentDigest = {
  fields: ['userId', 'action', 'amount', 'description', 'reason'],
  algorithm: 'sha256',
  hexDigits: 20,
} as const;

const trailingDigest = new RegExp(`[0-9a-f]{${adjustmentDigest.hexDigits}}$`);

/** Fills `{field}` placeholders (ids, summaries) from `values`; a missing value is a bug in the caller. */
export function fillTemplate(template: string, values: Readonly<Record<string, unknown>>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`The template ${template} needs ${name}; the input has none.`);
    return String(value);
  });
}

/**
 * Why `workflowId` is not the id of a run for `input` (it must end with the input's business key, `:` or the old `/` separators),
 * or undefined. Workflow code cannot compute an adjustment's content digest, so there any digest is accepted.
 */
export function businessKeyProblem(
  workflowType: StartableWorkflowType,
  workflowId: string,
  input: Readonly<{ userId: number; orderId?: number | undefined; requestId?: string | undefined }>,
): string | undefined {
  const key = (separator: string, requestId = input.requestId): string =>
    fillTemplate(idTemplates[workflowType].split(idSeparator).join(separator), { ...input, requestId });
  const expected = key(idSeparator, input.requestId ?? '<digest>');
  const separators = [idSeparator, '/'];
  if (workflowType === 'adjustCredit' && input.requestId === undefined) {
    const beforeDigest = workflowId.replace(trailingDigest, '');
    if (beforeDigest !== workflowId && separators.some((separator) => beforeDigest.endsWith(key(separator, '')))) return undefined;
  } else if (separators.some((separator) => workflowId.endsWith(key(separator)))) {
    return undefined;
  }
  return (
    `the workflow id ${JSON.stringify(workflowId)} does not match its input's business key ${JSON.stringify(expected)} ` +
    '(with an optional prefix before it): this run was not started by an orderflow starter and is refused before doing anything. ' +
    'Start it through orderflow (the CLI, the PHP client, or the contract\'s id template).'
  );
}

/** The key under which the ledger allows one refund and one cancellation per order, whatever run makes it. */
export function orderEffectKey(effect: 'refund' | 'cancel', userId: number, orderId: number): string {
  return `${effect}:${userId}:${orderId}`;
}

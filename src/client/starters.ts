/** Starters (docs/architecture.md): input checked before anything is sent; a key's run answers the same request and refuses another. */
import { WorkflowExecutionAlreadyStartedError, isGrpcServiceError } from '@temporalio/client';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { decodeOptionalSinglePayload } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { fillTemplate } from '../business-keys.ts';
import { escapeMarkdown } from '../markdown.ts';
import { orderflowSearchAttributes } from '../search-attributes.ts';
import type { AdjustCreditInput, CancelOrderInput, ProcessPaidOrderInput, RefundAndCancelInput } from '../contracts.ts';
import { explainStartRefusal } from '../temporal/readiness.ts';
import { startAnswering } from './start-answer.ts';
import { idPolicies, stateAtStart, workflowRegistry } from './workflow-registry.ts';
import type { WorkflowInput, WorkflowTypeName } from './workflow-registry.ts';

export type { WorkflowTypeName } from './workflow-registry.ts';

export interface StarterOptions {
  client: Client;
  taskQueue: string;
  /** Put before every workflow id, e.g. `shop-eu:` when several shops share one namespace. */
  workflowIdPrefix?: string | undefined;
  /** The bulk that starts this run: set as its OrderflowBulkId search attribute. */
  bulkId?: string | undefined;
}

export interface StartedRun {
  workflowId: string;
  /** The run that answers for this business key (the new one, or the one that existed). */
  runId: string;
  /** False when the run was already there before this call (running, or completed). */
  started: boolean;
  handle: WorkflowHandle;
  /** For a run that was already there: inputs outside `sameRequestFields` (who asks, why) that differ. */
  differentDetails: readonly RequestDifference[];
}

export interface RequestDifference {
  field: string;
  existing: unknown;
  requested: unknown;
}

/** The business key's run is of another workflow type (started by hand): not this request's run. */
export class OtherWorkflowTypeError extends Error {
  override readonly name = 'OtherWorkflowTypeError';
  readonly workflowId: string;
  readonly runId: string;
  readonly existingType: string;
  readonly requestedType: string;

  constructor(workflowId: string, runId: string, existingType: string, requestedType: string) {
    super(
      `${workflowId} (run ${runId}) is a run of workflow type ${JSON.stringify(existingType)}, not ${requestedType}: it was not started by an orderflow starter ` +
        `and is not this request's run. Nothing was started. orderflow refuses such a run at once; once it has failed (orderflow status ${workflowId}), start again.`,
    );
    this.workflowId = workflowId;
    this.runId = runId;
    this.existingType = existingType;
    this.requestedType = requestedType;
  }
}

/** A start for a business key whose run was started with a different request. Nothing was started. */
export class RequestConflictError extends Error {
  override readonly name = 'RequestConflictError';
  readonly workflowId: string;
  readonly runId: string;
  readonly differences: readonly RequestDifference[];

  constructor(workflowId: string, runId: string, differences: readonly RequestDifference[], advice: string) {
    const listed = differences.map((difference) => `${difference.field} ${shown(difference.existing)} there, ${shown(difference.requested)} now`).join('; ');
    super(`${workflowId} (run ${runId}) already exists for this business key with a different request: ${listed}. Nothing was started. ${advice}`);
    this.workflowId = workflowId;
    this.runId = runId;
    this.differences = differences;
  }
}

/** With a caller's request id a new request gets its own id; otherwise it waits for the run to fail. */
function conflictAdvice(idTemplate: string): string {
  if (idTemplate.includes('{requestId}')) return 'If the new request is meant, give it its own request id (requestId; --request-id); otherwise look at the existing run.';
  return (
    `The business key (${idTemplate}) has one run, running or completed: look at the existing run. A new request for it can start ` +
    'only after that run failed; if the existing run is wrong, an operator decides in it.'
  );
}

function shown(value: unknown): string {
  return value === undefined ? '(none)' : JSON.stringify(value);
}

const notFound = 5;

/** The current run with this id: its run id, type and the input it started with. */
async function existingRun(client: Client, workflowId: string): Promise<{ runId: string; workflowType: string; input: Record<string, unknown> } | undefined> {
  try {
    const { history } = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId },
      maximumPageSize: 1,
    });
    const attributes = history?.events?.[0]?.workflowExecutionStartedEventAttributes;
    const runId = attributes?.originalExecutionRunId;
    if (!attributes || !runId) throw new Error(`The history of ${workflowId} does not begin with its start; cannot compare requests.`);
    // Through the client's codecs: the input is stored encrypted when payload encryption is on.
    const input = await decodeOptionalSinglePayload<Record<string, unknown>>(client.options.loadedDataConverter, attributes.input?.payloads?.[0]);
    return { runId, workflowType: attributes.workflowType?.name ?? '(none)', input: input ?? {} };
  } catch (error) {
    if (isGrpcServiceError(error) && error.code === notFound) return undefined;
    throw error;
  }
}

function differences(fields: readonly string[], existing: Readonly<Record<string, unknown>>, requested: Readonly<Record<string, unknown>>): RequestDifference[] {
  const normal = (value: unknown): string => JSON.stringify(value ?? null);
  return fields
    .filter((field) => normal(existing[field]) !== normal(requested[field]))
    .map((field) => ({ field, existing: existing[field] ?? undefined, requested: requested[field] ?? undefined }));
}

/** Static details as a Markdown list (the UI renders tables without cell padding). */
function detailsList(rows: ReadonlyArray<readonly [string, string, string?]>, input: Readonly<Record<string, unknown>>): string {
  return rows
    .map(([label, field, whenAbsent]) => [label, input[field] ?? whenAbsent] as const)
    .filter((row): row is readonly [string, string | number] => row[1] !== undefined)
    .map(([label, value]) => `- **${label}:** ${escapeMarkdown(String(value))}`)
    .join('\n');
}

/** The search attributes a run starts with: its state, then each of the registry's whose input field is set. */
function searchAttributesAtStart(mapping: Readonly<Partial<Record<string, string>>>, input: Readonly<Record<string, unknown>>): SearchAttributePair[] {
  const fromInput = Object.values(orderflowSearchAttributes).flatMap((key) => {
    const field = mapping[key.name];
    return field === undefined || input[field] === undefined ? [] : [{ key, value: input[field] } as SearchAttributePair];
  });
  return [{ key: orderflowSearchAttributes.state, value: stateAtStart.value }, ...fromInput];
}

function businessKey(workflowType: WorkflowTypeName, input: unknown): string {
  const registration = workflowRegistry[workflowType];
  const idValues = registration.idValues as ((input: unknown) => Record<string, string | number>) | undefined;
  return fillTemplate(registration.idTemplate, idValues?.(input) ?? (input as Record<string, unknown>));
}

/** The business-key workflow id (without prefix) that `rawInput` starts under; validates it first (an InputError when it is not one). */
export function workflowIdOf(workflowType: WorkflowTypeName, rawInput: unknown): string {
  return businessKey(workflowType, workflowRegistry[workflowType].validate(rawInput));
}

/** Starts `workflowType` for `rawInput` (validated first), or answers with the run its business key already has. */
export async function startWorkflow<T extends WorkflowTypeName>(options: StarterOptions, workflowType: T, rawInput: WorkflowInput<T>): Promise<StartedRun> {
  const registration = workflowRegistry[workflowType];
  const input = registration.validate(rawInput) as unknown as Record<string, unknown>;
  const { client } = options;

  const answerExisting = async (workflowId: string, answeredRunId?: string): Promise<StartedRun> => {
    const existing = await existingRun(client, workflowId);
    if (existing === undefined) throw new Error(`${workflowId} was there a moment ago and is gone now; try the start again.`);
    const runId = answeredRunId ?? existing.runId;
    if (existing.workflowType !== workflowType) throw new OtherWorkflowTypeError(workflowId, runId, existing.workflowType, workflowType);
    const same: readonly string[] = registration.sameRequestFields;
    const different = differences(same, existing.input, input);
    if (different.length > 0) throw new RequestConflictError(workflowId, runId, different, conflictAdvice(registration.idTemplate));
    const details = [...new Set([...Object.keys(existing.input), ...Object.keys(input)])].filter((field) => !same.includes(field)).sort();
    const differentDetails = differences(details, existing.input, input);
    return { workflowId, runId, started: false, handle: client.workflow.getHandle(workflowId), differentDetails };
  };

  const workflowId = (options.workflowIdPrefix ?? '') + businessKey(workflowType, input);
  try {
    const answer = await startAnswering(client, workflowType, {
      taskQueue: options.taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: idPolicies.conflict,
      workflowIdReusePolicy: idPolicies.reuse,
      typedSearchAttributes: [
        ...searchAttributesAtStart(registration.searchAttributesAtStart, input),
        ...(options.bulkId === undefined ? [] : [{ key: orderflowSearchAttributes.bulkId, value: options.bulkId }]),
      ],
      staticSummary: fillTemplate(registration.summary, input as Record<string, string | number>),
      staticDetails: detailsList(registration.details, input),
    });
    if (answer.started) {
      return { workflowId, runId: answer.runId, started: true, handle: client.workflow.getHandle(workflowId, undefined, { firstExecutionRunId: answer.runId }), differentDetails: [] };
    }
    return answerExisting(workflowId, answer.runId);
  } catch (error) {
    // Refused by the reuse policy: a run with this business key already succeeded.
    if (error instanceof WorkflowExecutionAlreadyStartedError) return answerExisting(workflowId);
    // A bare cluster: say which search attributes are missing and how to register them.
    throw (await explainStartRefusal(error, client.connection, client.options.namespace)) ?? error;
  }
}

export const startRefundAndCancel = (options: StarterOptions, input: RefundAndCancelInput): Promise<StartedRun> => startWorkflow(options, 'refundAndCancel', input);
export const startProcessPaidOrder = (options: StarterOptions, input: ProcessPaidOrderInput): Promise<StartedRun> => startWorkflow(options, 'processPaidOrder', input);
export const startAdjustCredit = (options: StarterOptions, input: AdjustCreditInput): Promise<StartedRun> => startWorkflow(options, 'adjustCredit', input);
export const startCancelOrder = (options: StarterOptions, input: CancelOrderInput): Promise<StartedRun> => startWorkflow(options, 'cancelOrder', input);

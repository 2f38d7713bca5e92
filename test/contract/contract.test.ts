/**
 * The caller contract (clients/php/resources/orderflow.contract.json) is what the code
 * says: regenerating it changes nothing. And the TypeScript starters follow the shared
 * table of valid and invalid inputs that the PHP client follows too (its PHPUnit suite,
 * clients/php/tests/InputCasesTest.php): the same normalised input and workflow id, and
 * for a refused input the same problems, word for word.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { contractPath, renderContract } from '../../harness/contract.ts';
import { workflowIdOf } from '../../src/client/starters.ts';
import { workflowRegistry } from '../../src/client/workflow-registry.ts';
import type { WorkflowTypeName } from '../../src/client/workflow-registry.ts';
import { InputError } from '../../src/validation.ts';

interface InputCase {
  workflow: WorkflowTypeName;
  note: string;
  input: unknown;
  refused?: string[];
  /** A refused input's problems, word for word (the PHP client gives the same). */
  problems?: string[];
  normalised?: Record<string, unknown>;
  workflowId?: string;
}

describe('the caller contract', () => {
  it('is up to date with the workflow registry and src/contracts.ts (else: npm run contract)', () => {
    expect(readFileSync(contractPath, 'utf8'), 'the committed contract is stale: run `npm run contract` and commit the file').toBe(renderContract());
  });

  it('describes every registered workflow with its id template, policies and message schemas', () => {
    const contract = JSON.parse(readFileSync(contractPath, 'utf8')) as { workflows: Record<string, Record<string, unknown>>; $defs: Record<string, unknown> };
    expect(Object.keys(contract.workflows)).toEqual(Object.keys(workflowRegistry));
    expect(contract.workflows['processPaidOrder']).toMatchObject({
      workflowIdTemplate: 'process-paid-order:{userId}:{orderId}',
      workflowIdConflictPolicy: 'WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING',
      workflowIdReusePolicy: 'WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY',
      input: { $ref: '#/$defs/ProcessPaidOrderInput' },
      signals: [{ name: 'operatorDecision' }, { name: 'paymentReceived', argument: { $ref: '#/$defs/PaymentReceived' } }],
      updates: [{ name: 'operatorDecision', result: { $ref: '#/$defs/OperatorDecisionReply' } }],
      queries: [{ name: 'status', result: { $ref: '#/$defs/RunStatus' } }],
    });
    expect(contract.$defs['CancelOrderInput']).toMatchObject({
      type: 'object',
      required: ['userId', 'orderId', 'requester'],
      properties: { requester: { type: 'string', enum: ['ADMIN', 'BUYER'] } },
      additionalProperties: false,
    });
  });
});

describe('the shared table of inputs, in the TypeScript starters', () => {
  const cases = JSON.parse(readFileSync(new URL('../fixtures/input-cases.json', import.meta.url), 'utf8')) as InputCase[];
  it.each(cases.map((testCase) => [`${testCase.workflow}: ${testCase.note}`, testCase] as const))('%s', (_, testCase) => {
    const validate = workflowRegistry[testCase.workflow].validate as (input: unknown) => unknown;
    if (testCase.refused) {
      const refusal = (() => {
        try {
          validate(testCase.input);
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(refusal).toBeInstanceOf(InputError);
      const fields = (refusal as InputError).problems.map((problem) => (problem.startsWith('the input') ? 'input' : problem.split(' ')[0]));
      expect([...fields].sort()).toEqual([...testCase.refused].sort());
      expect((refusal as InputError).problems).toEqual(testCase.problems);
    } else {
      expect(JSON.parse(JSON.stringify(validate(testCase.input)))).toEqual(testCase.normalised);
      expect(workflowIdOf(testCase.workflow, testCase.input)).toBe(testCase.workflowId);
    }
  });
});

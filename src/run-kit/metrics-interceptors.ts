/** Workflow interceptors: a bulk's item runs log with `bulkId` (src/run-events.ts); decisions are counted (docs/configuration.md). */
import { metricMeter, workflowInfo } from '@temporalio/workflow';
import type { GetLogAttributesInput, Next, UpdateInput, SignalInput, WorkflowInboundCallsInterceptor, WorkflowInterceptors, WorkflowOutboundCallsInterceptor } from '@temporalio/workflow';
import { signalNames, updateNames } from '../contracts.ts';
import { orderflowSearchAttributes } from '../search-attributes.ts';

const decisions = metricMeter.createCounter('orderflow_operator_decisions', '1', 'Operator decisions received by runs');

function actionOf(args: unknown[]): string {
  const decision = args[0];
  const action = typeof decision === 'object' && decision !== null && 'action' in decision ? decision.action : undefined;
  return typeof action === 'string' && /^[a-z-]{1,20}$/.test(action) ? action : 'invalid';
}

class OperatorDecisionMetrics implements WorkflowInboundCallsInterceptor {
  async handleUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>): Promise<unknown> {
    const result = await next(input);
    if (input.name === updateNames.operatorDecision) decisions.add(1, { action: actionOf(input.args), via: 'update' });
    return result;
  }

  async handleSignal(input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>): Promise<void> {
    if (input.signalName === signalNames.operatorDecision) decisions.add(1, { action: actionOf(input.args), via: 'signal' });
    return next(input);
  }
}

class BulkItemLogAttributes implements WorkflowOutboundCallsInterceptor {
  getLogAttributes(input: GetLogAttributesInput, next: Next<WorkflowOutboundCallsInterceptor, 'getLogAttributes'>): Record<string, unknown> {
    const info = workflowInfo();
    const bulkId = info.workflowType === 'bulkRun' ? undefined : info.typedSearchAttributes.get(orderflowSearchAttributes.bulkId);
    return next(bulkId === undefined ? input : { ...input, bulkId });
  }
}

export const interceptors = (): WorkflowInterceptors => ({ inbound: [new OperatorDecisionMetrics()], outbound: [new BulkItemLogAttributes()] });

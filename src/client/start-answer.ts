/**
 * A workflow start that also says whether it started a run (with USE_EXISTING Temporal answers `started: false`, which
 * `WorkflowClient.start` drops). Only the SDK's gRPC start call is replaced; interceptors and the converter stay the SDK's.
 */
import { WorkflowClient, isGrpcServiceError } from '@temporalio/client';
import type { Client, WorkflowStartInput, WorkflowStartOptions, WorkflowStartOutput } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, extractWorkflowTypeAndConfig } from '@temporalio/common';
import type { Workflow } from '@temporalio/common';

/** gRPC status ALREADY_EXISTS: the reuse policy refused the id. */
const grpcAlreadyExists = 6;

interface StartAnswer extends WorkflowStartOutput {
  /** True when this call started the run; false when it joined a running one. */
  readonly started: boolean;
}

class StartAnsweringWorkflowClient extends WorkflowClient {
  protected override async _startWorkflowHandler(input: WorkflowStartInput): Promise<StartAnswer> {
    const request = await this.createStartWorkflowRequest(input);
    try {
      const response = await this.workflowService.startWorkflowExecution(request);
      return { runId: response.runId, eagerlyStarted: response.eagerWorkflowTask != null, started: response.started === true };
    } catch (error) {
      if (isGrpcServiceError(error) && error.code === grpcAlreadyExists) {
        throw new WorkflowExecutionAlreadyStartedError('Workflow execution already started', input.options.workflowId, input.workflowType);
      }
      this.rethrowGrpcError(error, 'Failed to start Workflow', { workflowId: input.options.workflowId });
    }
  }

  async startAnswering<W extends Workflow>(workflowType: string, options: WorkflowStartOptions<W>): Promise<{ runId: string; started: boolean }> {
    const output = await this._start(extractWorkflowTypeAndConfig(workflowType), options, this.getOrMakeInterceptors(options.workflowId));
    const started = (output as Partial<StartAnswer>).started;
    if (started === undefined) throw new Error('A workflow client interceptor dropped the start answer; orderflow cannot tell whether the run is new.');
    return { runId: output.runId, started };
  }
}

const answeringClients = new WeakMap<Client, StartAnsweringWorkflowClient>();

/** Starts `workflowType`: its run id and whether this call started it (or WorkflowExecutionAlreadyStartedError). */
export async function startAnswering<W extends Workflow>(
  client: Client,
  workflowType: string,
  options: WorkflowStartOptions<W>,
): Promise<{ runId: string; started: boolean }> {
  let answering = answeringClients.get(client);
  if (answering === undefined) {
    answering = new StartAnsweringWorkflowClient({
      connection: client.connection,
      namespace: client.options.namespace,
      dataConverter: client.options.dataConverter,
      identity: client.options.identity,
      interceptors: client.options.interceptors.workflow,
    });
    answeringClients.set(client, answering);
  }
  return answering.startAnswering<W>(workflowType, options);
}

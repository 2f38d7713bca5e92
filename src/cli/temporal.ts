/** What the commands that talk to Temporal share: connecting from configuration, querying a run. */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { loadConfig } from '../config.ts';
import type { TemporalConfig } from '../config.ts';
import { connectClient } from '../client/connect.ts';
import { queryNames } from '../contracts.ts';
import type { RunStatus } from '../contracts.ts';
import { CommandFailure } from './framework.ts';
import type { CliContext } from './framework.ts';

export class TemporalUnreachableError extends CommandFailure {}

/** Connects from TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE, runs `fn`, closes the connection. */
export async function withTemporal<T>(context: CliContext, fn: (client: Client, config: TemporalConfig) => Promise<T>): Promise<T> {
  const config = loadConfig(context.env, ['temporal']).temporal;
  let client: Client;
  try {
    client = await connectClient(config);
  } catch (error) {
    throw new TemporalUnreachableError(
      `Cannot reach Temporal at ${config.address} (namespace ${config.namespace}): ${error instanceof Error ? error.message : String(error)}. ` +
        'Start it (npm start runs a local one) or set TEMPORAL_ADDRESS.',
    );
  }
  try {
    return await fn(client, config);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      throw new CommandFailure(
        `No such workflow ${error.workflowId ?? ''} in namespace ${config.namespace} at ${config.address}: ${error.message}. Check the id (orderflow ops list shows waiting runs).`,
      );
    }
    throw error;
  } finally {
    await client.connection.close();
  }
}

/** The run's `status` query, or undefined when no worker answers. */
export async function queryStatus(handle: WorkflowHandle): Promise<RunStatus | undefined> {
  try {
    return await handle.query<RunStatus>(queryNames.status);
  } catch {
    return undefined;
  }
}

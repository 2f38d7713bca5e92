/** Connecting to Temporal from configuration, and links into the Temporal UI. */
import { Client, Connection } from '@temporalio/client';
import type { ClientPlugin } from '@temporalio/client';
import type { TemporalConfig } from '../config.ts';
import type { TemporalConnectionSettings } from '../temporal/connection.ts';
import { checkReadyForOrderflow, explainConnectFailure } from '../temporal/readiness.ts';
import type { TemporalServices } from '../temporal/readiness.ts';
import { orderflowDataConverter } from '../temporal/encryption.ts';

/** The connection `connect` opens, checked ready unless `checkReady` is false; a failure a person can fix is a TemporalNotReadyError. */
export async function connectChecked<C extends TemporalServices & { close(): Promise<void> }>(
  settings: TemporalConnectionSettings,
  connect: () => Promise<C>,
  checkReady = true,
): Promise<C> {
  let connection: C;
  try {
    connection = await connect();
  } catch (error) {
    throw (await explainConnectFailure(error, settings)) ?? error;
  }
  try {
    if (checkReady) await checkReadyForOrderflow(connection, settings);
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw error;
  }
  return connection;
}

export interface ConnectClientOptions {
  /** Check that the namespace exists and has orderflow's search attributes. Default true. */
  checkReady?: boolean;
  plugins?: ClientPlugin[];
  /** The caller identity Temporal records for every request; default the SDK's `<pid>@<host>`. */
  identity?: string;
}

/** A client with the settings of src/temporal/connection.ts ({@link connectChecked}); payloads are encrypted when keys are configured. */
export async function connectClient(config: Pick<TemporalConfig, 'connection' | 'encryption'>, options: ConnectClientOptions = {}): Promise<Client> {
  const settings = config.connection;
  const connect = (): Promise<Connection> => Connection.connect({ ...settings.connectionOptions(), connectTimeout: '5 seconds' });
  const connection = await connectChecked(settings, connect, options.checkReady);
  return new Client({ connection, namespace: settings.namespace, plugins: options.plugins ?? [], dataConverter: orderflowDataConverter(config.encryption), ...(options.identity === undefined ? {} : { identity: options.identity }) });
}

/** The Temporal UI page of a workflow (its latest run); `uiUrl` has no trailing slash (checkHttpUrl strips it). */
export function workflowUiUrl(config: Pick<TemporalConfig, 'uiUrl' | 'namespace'>, workflowId: string): string {
  return `${config.uiUrl}/namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

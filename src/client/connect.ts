/** Connecting to Temporal from configuration, and links into the Temporal UI. */
import { Client, Connection } from '@temporalio/client';
import type { TemporalConfig } from '../config.ts';

export async function connectClient(config: Pick<TemporalConfig, 'address' | 'namespace'>): Promise<Client> {
  const connection = await Connection.connect({ address: config.address, connectTimeout: '5 seconds' });
  return new Client({ connection, namespace: config.namespace });
}

/** The Temporal UI page of a workflow (its latest run). */
export function workflowUiUrl(config: Pick<TemporalConfig, 'uiUrl' | 'namespace'>, workflowId: string): string {
  const base = config.uiUrl.replace(/\/+$/, '');
  return `${base}/namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

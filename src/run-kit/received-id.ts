/** The id a run was started with, checked by the run itself (workflow code). */
import { workflowInfo } from '@temporalio/workflow';
import { controlCharacterProblem } from '../single-line-text.ts';

/**
 * What is wrong with the id this run was started with, or undefined. A raw start may carry any
 * text, and the id is shown to operators and part of every effect key: it is held to the single-line
 * text rule (no control or invisible format characters, e.g. a right-to-left override) and has no surrounding spaces.
 */
export function receivedWorkflowIdProblem(): string | undefined {
  const { workflowId } = workflowInfo();
  const problem = controlCharacterProblem('the workflow id', workflowId);
  if (problem !== undefined) return `${problem}; start the run again with an id of visible characters (orderflow's starters build one)`;
  if (workflowId.trim() !== workflowId) return 'the workflow id must not begin or end with spaces; start the run again without them';
  return undefined;
}

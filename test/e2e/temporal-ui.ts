/**
 * What ops do in the Temporal Web UI (2.54, shipped with CLI 1.9.1), as page helpers with
 * role- and text-based selectors:
 *
 * - list filter in the URL: `/namespaces/<ns>/workflows?query=<visibility query>`;
 * - a run: `/namespaces/<ns>/workflows/<workflowId>/<runId>/<tab>` (tabs: history,
 *   timeline, user-metadata, ...); Summary, Details and Current Details are Markdown
 *   rendered into iframes `#user-metadata-summary`, `#user-metadata-details`,
 *   `#user-metadata-current-details` on the "User Metadata" tab;
 * - a running workflow's "More Actions" menu: Reset, Send a Signal, Send an Update,
 *   Terminate; a closed one has a "Reset" button;
 * - the Signal and Update dialogs list the handlers the worker registered (with their
 *   descriptions) and take the argument as JSON in a code editor labelled "Data".
 */
import type { FrameLocator, Locator, Page } from 'playwright-core';

export type UserMetadataFrame = 'summary' | 'details' | 'current-details';

export function workflowListUrl(uiUrl: string, namespace: string, query: string): string {
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows?query=${encodeURIComponent(query)}`;
}

export function workflowRunUrl(uiUrl: string, namespace: string, workflowId: string, runId: string, tab = 'history'): string {
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/${tab}`;
}

/** The UI's settings (what it allows); `/api/v1/settings` answers once the UI server is up. */
export interface UiSettings {
  Version: string;
  DisableWriteActions: boolean;
  WorkflowSignalDisabled: boolean;
  WorkflowUpdateDisabled: boolean;
  WorkflowResetDisabled: boolean;
}

export async function fetchUiSettings(uiUrl: string): Promise<UiSettings> {
  const response = await fetch(`${uiUrl}/api/v1/settings`);
  if (!response.ok) throw new Error(`The Temporal UI at ${uiUrl} answered HTTP ${response.status} for /api/v1/settings.`);
  return (await response.json()) as UiSettings;
}

/** Opens the workflow list filtered by `query` and waits until the filter is applied. */
export async function openWorkflowList(page: Page, uiUrl: string, namespace: string, query: string): Promise<void> {
  await page.goto(workflowListUrl(uiUrl, namespace, query));
  await page.getByRole('table').or(page.getByText(/No Workflows/i)).first().waitFor();
}

/** The link of a run in the workflow list (its workflow id). */
export function workflowLink(page: Page, workflowId: string): Locator {
  return page.getByRole('link', { name: workflowId, exact: true });
}

/** The Markdown of the User Metadata tab, rendered in its own frame. */
export function userMetadataFrame(page: Page, which: UserMetadataFrame): FrameLocator {
  return page.frameLocator(`#user-metadata-${which}`);
}

/** Opens the run's "User Metadata" tab and waits until its Markdown frames show text. */
export async function openUserMetadata(page: Page): Promise<void> {
  await page.getByRole('tab', { name: 'User Metadata' }).click();
  await userMetadataFrame(page, 'summary').locator('body').filter({ hasText: /\S/ }).waitFor();
}

export type ActionDialog = 'Send an Update' | 'Send a Signal';

/** Opens "More Actions" → Send an Update / Send a Signal; returns the dialog. */
export async function openActionDialog(page: Page, action: ActionDialog): Promise<Locator> {
  await page.getByRole('button', { name: 'More Actions' }).click();
  await page.getByRole('menuitem', { name: action }).click();
  const dialog = page.getByRole('dialog', { name: action });
  await dialog.waitFor();
  return dialog;
}

/**
 * Picks the handler in an Update/Signal dialog; the dropdown lists the names the worker
 * registered, each with its description. Returns the option's text (name + description).
 */
export async function chooseHandler(dialog: Locator, placeholder: 'Select an Update' | 'Select a signal', name: string): Promise<string> {
  await dialog.getByRole('button', { name: placeholder }).click();
  const option = dialog.getByRole('option', { name: new RegExp(`^${name}\\b`) });
  const text = (await option.innerText()).trim();
  await option.click();
  await dialog.getByRole('button', { name, exact: true }).waitFor();
  return text;
}

/** The dialog's JSON editor ("Data"). */
export function jsonEditor(dialog: Locator): Locator {
  return dialog.getByRole('textbox', { name: 'Data' });
}

/**
 * Replaces the editor's content with `json` and leaves the editor. On leaving, the UI
 * pretty-prints the JSON and the dialog grows: a mouse click right after typing can land
 * on the moved layout, so focus leaves by keyboard/programmatically, and we wait until
 * the editor holds the same JSON value.
 */
export async function fillJsonEditor(page: Page, dialog: Locator, value: object): Promise<void> {
  const editor = jsonEditor(dialog);
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(JSON.stringify(value));
  await editor.blur();
  const expected = JSON.stringify(value);
  for (let attempt = 0; ; attempt += 1) {
    const text = await editor.innerText();
    try {
      if (JSON.stringify(JSON.parse(text)) === expected) return;
    } catch {
      // not valid JSON (yet)
    }
    if (attempt >= 50) throw new Error(`The Data editor holds ${JSON.stringify(text)} instead of ${expected}.`);
    await page.waitForTimeout(100);
  }
}

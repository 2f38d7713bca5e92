/**
 * Ops resume stuck runs from the Temporal Web UI, proved in a real browser (Debian's
 * Chromium through playwright-core) against a real dev server WITH the UI, both simulators
 * and a worker with the real activities.
 *
 * It finds a stuck refund-and-cancel with the documented list filters, reads why it is
 * stuck (summary and Markdown current details), sends the operator's decisions through the
 * UI's "Send a Signal" and "Send an Update" dialogs, and resets a completed run from the
 * UI; each effect happens once. Payload encryption is on, as with `npm start`: the UI reads
 * every payload through the codec server (`--ui-codec-endpoint`), while the runs' stored
 * history (`temporal workflow show -o json`) holds no customer text. Screenshots of every step go to docs/screenshots/ for the
 * runbook, docs/runbook.md (overwritten on every run).
 *
 * Without /usr/bin/chromium (or the Temporal CLI) the tests are skipped with the reason;
 * with `CI` set, a missing Chromium fails the run.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRefundAndCancel } from '../../src/client/starters.ts';
import { FailureType } from '../../src/contracts.ts';
import type { RunResult, RunStatus } from '../../src/contracts.ts';
import { centsFromInteger } from '../../src/money.ts';
import { orderflowSearchAttributes } from '../../src/search-attributes.ts';
import type { CallLogEntry } from '../../src/simulators/harness.ts';
import { findTemporalCli, missingTemporalCliMessage } from '../../src/temporal/cli-binary.ts';
import { startDevServer } from '../../src/temporal/dev-server.ts';
import type { DevServer } from '../../src/temporal/dev-server.ts';
import { startCodecServer } from '../../src/temporal/codec-server.ts';
import type { CodecServer } from '../../src/temporal/codec-server.ts';
import { orderflowDataConverter, readEncryptionKeys } from '../../src/temporal/encryption.ts';
import { eventually, placeCurrentOrder } from '../../harness/stack.ts';
import type { Stack } from '../../harness/stack.ts';
import type { TemporalTarget } from '../../harness/temporal.ts';
import { awaitingOperatorAt, decide, failureOf, useWorkflowTestContext } from '../../harness/workflows.ts';
import { findChromium, launchBrowser } from './browser.ts';
import type { BrowserSession } from './browser.ts';
import {
  chooseHandler,
  fetchUiSettings,
  fillJsonEditor,
  jsonEditor,
  openActionDialog,
  openUserMetadata,
  openWorkflowList,
  userMetadataFrame,
  workflowLink,
  workflowRunUrl,
} from './temporal-ui.ts';
// Every run saves its screenshots under test-results/ (ignored by git); with
// ORDERFLOW_UPDATE_SCREENSHOTS=1 it refreshes the committed ones docs/runbook.md shows.
const screenshotsDir = fileURLToPath(
  new URL(process.env['ORDERFLOW_UPDATE_SCREENSHOTS'] === '1' ? '../../docs/screenshots/' : '../../test-results/screenshots/', import.meta.url),
);

const chromiumLookup = findChromium();
const temporalCli = findTemporalCli();
const skipReason = !chromiumLookup.found
  ? `Skipping the Temporal UI browser tests: ${chromiumLookup.reason}`
  : temporalCli === undefined
    ? `Skipping the Temporal UI browser tests: ${missingTemporalCliMessage()}`
    : undefined;
if (skipReason !== undefined) console.warn(skipReason);

const caseTimeoutMs = 240_000;

const encryptionKeys = readEncryptionKeys({ ORDERFLOW_ENCRYPTION_KEYS: `ui-test=${randomBytes(32).toString('base64')}` }).keys;
if (encryptionKeys === undefined) throw new Error('the test key is malformed');

/** The run's history as Temporal stores it, as the temporal CLI prints it (no codec). */
function storedHistory(server: DevServer, workflowId: string): string {
  const args = ['workflow', 'show', '--address', server.address, '--namespace', server.namespace, '--workflow-id', workflowId, '--output', 'json'];
  // Without a codec endpoint (one from a sourced .orderflow/env would decode).
  return execFileSync(temporalCli ?? 'temporal', args, { encoding: 'utf8', env: { ...process.env, TEMPORAL_CODEC_ENDPOINT: '' } });
}

/** Every call one store user's runs made to the WebTV simulator, by action. */
function webtvCallsOf(stack: Stack, userId: number, operation: string): CallLogEntry[] {
  return stack.webtvSim.calls.filter((call) => call.operation === operation && call.query['iq'] === String(userId));
}

/** The calls a refund-and-cancel makes that change something: credit and cancellation. */
function effectCallsOf(stack: Stack, userId: number): CallLogEntry[] {
  return [...webtvCallsOf(stack, userId, 'add_subtract_credit'), ...webtvCallsOf(stack, userId, 'cancel_order')];
}

describe('Temporal UI in a real browser (CI needs Chromium)', () => {
  it.runIf(Boolean(process.env.CI) && !chromiumLookup.found)('has Chromium to drive', () => {
    throw new Error(`CI must run the browser tests: ${chromiumLookup.found ? '' : chromiumLookup.reason}`);
  });
});

describe.skipIf(skipReason !== undefined)('ops resume stuck runs from the Temporal UI (real browser)', () => {
  let server: DevServer;
  let uiUrl: string;
  let target: TemporalTarget;
  let browser: BrowserSession;
  let codec: CodecServer;
  const uiOrigins = new Set<string>();

  // vitest runs the beforeAll hooks one at a time in the order they are registered, and the
  // afterAll hooks in reverse order, also after a failed beforeAll: the dev server with the
  // UI first, then the stack and a client on that server (the context), then the browser.
  beforeAll(async () => {
    // The codec server as npm start runs it: open on loopback, for the UI's origin only.
    codec = await startCodecServer({ keys: encryptionKeys, host: '127.0.0.1', port: 0, access: { token: undefined, jwt: undefined }, corsOrigins: uiOrigins });
    server = await startDevServer({ cliPath: temporalCli, uiPort: 0, uiCodecEndpoint: codec.url });
    uiUrl = server.uiUrl ?? '';
    uiOrigins.add(new URL(uiUrl).origin);
    target = { address: server.address, namespace: server.namespace };
    // The UI server comes up next to the frontend; wait until it answers.
    await eventually('the Temporal UI to answer', () => fetchUiSettings(uiUrl).catch(() => undefined), 30_000);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await codec?.close();
  });

  // This dev server holds only this file's runs: workflow ids without a prefix, as ops see them.
  const context = useWorkflowTestContext({ taskQueuePrefix: 'e2e-ui', workflowIdPrefix: '', temporalTarget: () => target, dataConverter: orderflowDataConverter(encryptionKeys) });
  const { withWorker } = context;

  beforeAll(async () => {
    if (!chromiumLookup.found) throw new Error('unreachable: skipped without Chromium');
    browser = await launchBrowser({ executablePath: chromiumLookup.executablePath, screenshotsDir });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  async function visibleToQuery(query: string, workflowId: string): Promise<void> {
    await eventually(`visibility to list ${workflowId} for ${query}`, async () => {
      for await (const execution of context.client.workflow.list({ query })) if (execution.workflowId === workflowId) return true;
      return undefined;
    });
  }

  it('lets Signal, Update and Reset be sent from the UI (no extra dynamic config needed)', async () => {
    const settings = await fetchUiSettings(uiUrl);
    expect(settings).toMatchObject({
      DisableWriteActions: false,
      WorkflowSignalDisabled: false,
      WorkflowUpdateDisabled: false,
      WorkflowResetDisabled: false,
    });
    expect(settings.Version).toMatch(/^2\./);
  });

  it(
    'finds a run stuck at undo-add-credit by its search attributes, shows why, and resumes it with the UI\'s Signal and Update',
    async () => {
      const { page } = browser;
      const userId = 61;
      const otherUserId = 63;
      const orderId = await placeCurrentOrder(context.stack, userId);
      const otherOrderId = await placeCurrentOrder(context.stack, otherUserId);
      const workflowId = `refund-and-cancel:${userId}:${orderId}`;

      await withWorker(async (starter) => {
        // A run that finished normally: it must NOT show up among the stuck ones.
        const done = await startRefundAndCancel(starter, { userId: otherUserId, orderId: otherOrderId, amount: '2.00', reason: 'damaged', requestedBy: 'support' });
        expect(((await done.handle.result()) as RunResult).outcome).toBe('completed');

        // The API refuses our credentials at the pivot: the run waits for an operator at cancel-order.
        context.stack.webtvSim.addFault({ operation: 'cancel_order', kind: 'error', code: 'REQUEST_ERROR', text: 'Invalid key' });
        const started = await startRefundAndCancel(starter, { userId, orderId, amount: '4.00', reason: 'arrived broken', requestedBy: 'support' });
        expect(started.workflowId).toBe(workflowId);
        const { handle } = started;
        const runId = started.runId ?? '';
        await awaitingOperatorAt(handle, 'cancel-order');
        // Meanwhile the user spends the refunded credit.
        context.stack.webtvSim.state.setCredit(userId, centsFromInteger(0));

        // First decision through the UI's "Send a Signal": compensate (take the credit back).
        await page.goto(workflowRunUrl(uiUrl, server.namespace, workflowId, runId, 'history'));
        const signalDialog = await openActionDialog(page, 'Send a Signal');
        const signalOption = await chooseHandler(signalDialog, 'Select a signal', 'operatorDecision');
        expect(signalOption).toMatch(/Same as the operatorDecision update/);
        await fillJsonEditor(page, signalDialog, { waitId: 'cancel-order#1', step: 'cancel-order', action: 'compensate', note: 'refund was a mistake', operator: 'ops-e2e' });
        await browser.screenshot('08-signal-dialog');
        await signalDialog.getByRole('button', { name: 'Submit' }).click();
        await signalDialog.waitFor({ state: 'hidden' });

        // The undo fails (ERROR_CANT_SUBTRACT): the run waits for an operator at undo-add-credit.
        const atUndo = await awaitingOperatorAt(handle, 'undo-add-credit');
        expect(atUndo.awaiting?.failure).toMatchObject({ type: FailureType.CreditAlreadySpent, code: 'ERROR_CANT_SUBTRACT' });
        expect(atUndo.decisions.map((decision) => [decision.step, decision.action, decision.operator, decision.via])).toEqual([
          ['cancel-order', 'compensate', 'ops-e2e', 'signal'],
        ]);

        // 1. All stuck runs: OrderflowState = "awaiting-operator".
        const stuckQuery = 'OrderflowState = "awaiting-operator"';
        await visibleToQuery(`${stuckQuery} AND OrderflowStep = "undo-add-credit"`, workflowId);
        await openWorkflowList(page, uiUrl, server.namespace, stuckQuery);
        await workflowLink(page, workflowId).waitFor();
        expect(await page.getByText(stuckQuery).count()).toBeGreaterThan(0);
        expect(await workflowLink(page, done.workflowId).count()).toBe(0);
        await browser.screenshot('01-awaiting-operator-list');

        // 2. One store user's runs: StoreUserId = 61.
        const userQuery = `StoreUserId = ${userId}`;
        await visibleToQuery(userQuery, workflowId);
        await openWorkflowList(page, uiUrl, server.namespace, userQuery);
        await workflowLink(page, workflowId).waitFor();
        expect(await workflowLink(page, done.workflowId).count()).toBe(0);
        await browser.screenshot('02-store-user-list');

        // 3. The run: static summary and details, and the Markdown current details.
        await workflowLink(page, workflowId).click();
        await page.waitForURL(new RegExp(`/workflows/${encodeURIComponent(workflowId)}/${runId}/`));
        // The run's default tab (Timeline): the wait is a pending timer whose summary says why.
        await page.getByText('Waiting for an operator: Step undo-add-credit failed and retrying it as it is cannot help.').first().waitFor();
        await browser.screenshot('11-run-timeline-waiting');
        await openUserMetadata(page);
        const summary = await userMetadataFrame(page, 'summary').locator('body').innerText();
        expect(summary).toContain(`Refund 4.00 and cancel order ${orderId} for store user ${userId}`);
        const details = await userMetadataFrame(page, 'details').locator('body').innerText();
        expect(details).toMatch(/requested by:\s*support/);
        const currentDetailsFrame = userMetadataFrame(page, 'current-details');
        await currentDetailsFrame.getByRole('heading', { name: /Waiting for an operator: step undo-add-credit, wait undo-add-credit#2/ }).waitFor();
        const currentDetails = await currentDetailsFrame.locator('body').innerText();
        expect(currentDetails).toContain('CreditAlreadySpent');
        expect(currentDetails).toContain('ERROR_CANT_SUBTRACT');
        expect(currentDetails).toMatch(/credit:\s*0\.00/);
        // The exact JSON to paste into the Update form, for this wait.
        expect(currentDetails).toContain('{"waitId":"undo-add-credit#2","step":"undo-add-credit","action":"retry","note":"what you checked and why","operator":"your name"}');
        const choices = currentDetailsFrame.getByRole('table').filter({ hasText: 'what happens' });
        expect((await choices.getByRole('row').allInnerTexts()).map((row) => row.split(/\s+/)[0])).toEqual(['action', 'retry', 'skip', 'abort']);
        await browser.screenshot('03-run-summary-and-current-details');
        await currentDetailsFrame.getByRole('heading', { name: 'Your choices' }).scrollIntoViewIfNeeded();
        await browser.screenshot('04-run-choices');
        // The input, decoded by the codec server, on the run's History tab.
        await page.goto(workflowRunUrl(uiUrl, server.namespace, workflowId, runId, 'history'));
        await page.getByText(/"reason":\s*"arrived broken"/).first().waitFor();
        await browser.screenshot('14-run-input-decoded');

        // 4. The decision through the UI's "Send an Update". An impossible choice is refused
        //    by the validator, and the dialog says why; nothing changes.
        const updateDialog = await openActionDialog(page, 'Send an Update');
        const updateOption = await chooseHandler(updateDialog, 'Select an Update', 'operatorDecision');
        expect(updateOption).toMatch(/Resume a run that waits for an operator/);
        await fillJsonEditor(page, updateDialog, { waitId: 'undo-add-credit#2', step: 'undo-add-credit', action: 'compensate', note: 'once more', operator: 'ops-e2e' });
        await updateDialog.getByRole('button', { name: 'Submit' }).click();
        const refusal = updateDialog.getByRole('alert').filter({ hasText: 'decision refused' }).first();
        await refusal.waitFor();
        expect(await refusal.innerText()).toMatch(/"compensate" is not possible here; choose one of retry, skip, abort/);
        await browser.screenshot('06-update-refused');
        expect((await handle.query<RunStatus>('status')).awaiting?.step).toBe('undo-add-credit');
        await updateDialog.getByRole('button', { name: 'Cancel' }).last().click();
        await updateDialog.waitFor({ state: 'hidden' });

        // The operator's real decision, in a fresh dialog: skip (written off).
        const decision = { waitId: 'undo-add-credit#2', step: 'undo-add-credit', action: 'skip', note: 'written off', operator: 'ops-e2e' } as const;
        const skipDialog = await openActionDialog(page, 'Send an Update');
        await chooseHandler(skipDialog, 'Select an Update', 'operatorDecision');
        await fillJsonEditor(page, skipDialog, decision);
        expect(JSON.parse(await jsonEditor(skipDialog).innerText())).toEqual(decision);
        // An update id makes a double click (or a resend) one decision, not two.
        await skipDialog.locator('#update-id').fill('ops-e2e-skip-undo-add-credit');
        await browser.screenshot('05-update-dialog');
        await skipDialog.getByRole('button', { name: 'Submit' }).click();
        await skipDialog.waitFor({ state: 'hidden' });

        // The run ends compensated, with both decisions recorded.
        const failure = await failureOf(handle);
        expect(failure.type).toBe(FailureType.RunCompensated);
        const result = failure.details?.[0] as RunResult;
        expect(result.outcome).toBe('compensated');
        expect(result.decisions.map((recorded) => [recorded.waitId, recorded.action, recorded.operator, recorded.note, recorded.via])).toEqual([
          ['cancel-order#1', 'compensate', 'ops-e2e', 'refund was a mistake', 'signal'],
          ['undo-add-credit#2', 'skip', 'ops-e2e', 'written off', 'update'],
        ]);
        // The dev server's UI has no sign-in, so it sends no caller identity: the run records none
        // ("none recorded"), next to the self-declared operator. A signed-in UI sends
        // "<email> - webui"; test/workflows/decisions.test.ts sends an Update with that identity.
        expect(result.decisions.map((recorded) => recorded.identity)).toEqual([null, null]);

        await page.reload();
        await page.getByTestId('execution-status').filter({ hasText: /Failed/i }).waitFor();
        await openUserMetadata(page);
        const finalDetails = await userMetadataFrame(page, 'current-details').locator('body').filter({ hasText: /\S/ }).innerText();
        expect(finalDetails).toMatch(/ops-e2e chose skip for step undo-add-credit \(wait undo-add-credit#2, via update; Temporal identity: .+\): written off/);
        await browser.screenshot('07-run-compensated');

        // What Temporal stores: encrypted payloads, no customer text nor the operators' words.
        const stored = storedHistory(server, workflowId);
        expect(stored).toContain(Buffer.from('binary/encrypted').toString('base64'));
        for (const clear of ['arrived broken', '4.00', 'refund was a mistake', 'written off', 'ERROR_CANT_SUBTRACT', 'Invalid key']) {
          expect(stored, `"${clear}" in the stored history`).not.toContain(clear);
        }
      });

      // Each effect once: one add (applied), one subtract (refused: ERROR_CANT_SUBTRACT),
      // one cancel_order (refused by the fault); no retry repeated any of them.
      const creditCalls = webtvCallsOf(context.stack, userId, 'add_subtract_credit');
      expect(creditCalls.map((call) => call.fields['creditAction'])).toEqual(['add', 'subtract']);
      expect(creditCalls[1]?.answer).toContain('ERROR_CANT_SUBTRACT');
      expect(webtvCallsOf(context.stack, userId, 'cancel_order')).toHaveLength(1);
      expect(context.stack.webtvSim.state.creditOf(userId)).toBe(0);
      const orders = await context.stack.webtv.listOrders(userId);
      expect(orders.find((order) => order.id === orderId)?.status).toBe('current');
      const effects = await context.stack.ledger.listEffects({ userId });
      expect(effects.map((effect) => [effect.step.replace(/#.*$/, ''), effect.kind, effect.state])).toEqual([
        ['add-credit', 'credit.add', 'applied'],
        ['cancel-order', 'order.cancel', 'rejected'],
        // The refused undo, settled by the operator's skip ("written off").
        ['undo-add-credit', 'credit.subtract', 'resolved-applied'],
      ]);
      const skips = await context.stack.ledger.listAudit({ event: 'operator.skip' });
      expect(skips.filter((event) => event.actor === 'ops-e2e')).toHaveLength(1);
    },
    caseTimeoutMs,
  );

  it(
    'shows on the workflow list, once its OrderflowWaitingFor column is added, at which step a run waits, why and what to choose',
    async () => {
      const { page } = browser;
      const userId = 64;
      const orderId = await placeCurrentOrder(context.stack, userId);
      const workflowId = `refund-and-cancel:${userId}:${orderId}`;
      const label = 'cancel-order: retry|skip|compensate|abort (API refused our credentials)';

      await withWorker(async (starter) => {
        // The API refuses our credentials at the pivot: the run waits for an operator at cancel-order.
        context.stack.webtvSim.addFault({ operation: 'cancel_order', kind: 'error', code: 'REQUEST_ERROR', text: 'Invalid key' });
        const { handle } = await startRefundAndCancel(starter, { userId, orderId, amount: '3.00', reason: 'wrong size', requestedBy: 'support' });
        const waiting = await awaitingOperatorAt(handle, 'cancel-order');
        expect(waiting.awaiting?.waitId).toBe('cancel-order#1');
        // The run carries the attribute the column shows (what describe() reads, not the list).
        expect((await handle.describe()).typedSearchAttributes.get(orderflowSearchAttributes.waitingFor)).toBe(label);
        const stuckQuery = 'OrderflowState = "awaiting-operator"';
        await visibleToQuery(`${stuckQuery} AND OrderflowWaitingFor = "${label}"`, workflowId);

        // docs/runbook-ui.md: Configure Columns → add OrderflowWaitingFor (kept per browser).
        await openWorkflowList(page, uiUrl, server.namespace, stuckQuery);
        await workflowLink(page, workflowId).waitFor();
        await page.getByRole('button', { name: 'Configure Columns' }).click();
        const drawer = page.locator('#workflows-table-configuration-drawer');
        await drawer.getByTestId('orderable-list-item-OrderflowWaitingFor-add-button').click();
        await drawer.getByTestId('orderable-list-item-OrderflowWaitingFor-remove-button').waitFor();
        // Next to Workflow ID: the default columns are Status, Workflow ID, Run ID, Type, Start, End.
        for (let moves = 0; moves < 4; moves++) await drawer.getByTestId('orderable-list-item-OrderflowWaitingFor-move-up-button').click();
        await browser.screenshot('13-configure-columns');
        await page.keyboard.press('Escape');
        const stored = await page.evaluate(() => localStorage.getItem('namespace-workflow-table-columns'));
        expect(JSON.parse(stored ?? '{}')[server.namespace]).toEqual([
          { label: 'Status' }, { label: 'Workflow ID' }, { label: 'OrderflowWaitingFor' }, { label: 'Run ID' }, { label: 'Type' }, { label: 'Start' }, { label: 'End' },
        ]);

        // The column, on the list, in the run's row.
        await page.reload();
        await page.getByRole('columnheader', { name: 'OrderflowWaitingFor' }).waitFor();
        const row = page.getByRole('row').filter({ has: workflowLink(page, workflowId) });
        await row.getByText(label).waitFor();
        await browser.screenshot('12-list-waiting-for-column');

        // The decision names the wait it answers: the run refuses one without its wait id and step
        // and waits on. Sent as the Update, so a refusal fails here with the run's reason.
        const reply = await decide(handle, { waitId: 'cancel-order#1', step: 'cancel-order', action: 'abort', note: 'seen on the list', operator: 'ops-e2e' });
        expect(reply).toMatchObject({ accepted: true, waitId: 'cancel-order#1', action: 'abort' });
        expect((await failureOf(handle)).type).toBe(FailureType.RunAborted);
        expect((await handle.describe()).typedSearchAttributes.get(orderflowSearchAttributes.waitingFor)).toBeUndefined();
      });
    },
    caseTimeoutMs,
  );

  it(
    'resets a completed refund-and-cancel from the UI to its first workflow task, and the re-run applies nothing twice',
    async () => {
      const { page } = browser;
      const userId = 62;
      const orderId = await placeCurrentOrder(context.stack, userId);
      const workflowId = `refund-and-cancel:${userId}:${orderId}`;

      await withWorker(async (starter) => {
        const started = await startRefundAndCancel(starter, { userId, orderId, amount: '1.25', reason: 'reset from the UI', requestedBy: 'support' });
        expect(((await started.handle.result()) as RunResult).outcome).toBe('completed');
        const firstRunId = started.runId ?? '';
        const changesBefore = effectCallsOf(context.stack, userId).length;
        expect(changesBefore).toBe(2); // add_subtract_credit (add) + cancel_order

        const history = await started.handle.fetchHistory();
        const firstTaskCompleted = history.events?.find((event) => event.workflowTaskCompletedEventAttributes);
        const firstTaskEventId = Number(firstTaskCompleted?.eventId);
        expect(firstTaskEventId).toBeGreaterThan(0);

        const userQuery = `StoreUserId = ${userId}`;
        await visibleToQuery(`${userQuery} AND OrderflowState = "completed"`, workflowId);
        await openWorkflowList(page, uiUrl, server.namespace, userQuery);
        await workflowLink(page, workflowId).click();
        await page.waitForURL(new RegExp(`/workflows/${encodeURIComponent(workflowId)}/${firstRunId}/`));
        await page.getByTestId('execution-status').filter({ hasText: /Completed/i }).waitFor();

        // A closed run has a "Reset" button (a running one has Reset in "More Actions").
        await page.getByRole('button', { name: 'Reset', exact: true }).click();
        const resetDialog = page.getByRole('dialog', { name: 'Reset Workflow' });
        await resetDialog.getByTestId('workflow-reset-event-id-select-button').click();
        const taskOptions = resetDialog.getByRole('option', { name: / - WorkflowTaskCompleted$/ });
        expect((await taskOptions.first().innerText()).trim()).toBe(`${firstTaskEventId} - WorkflowTaskCompleted`);
        await taskOptions.first().click();
        await resetDialog.getByRole('textbox', { name: 'Enter a reason' }).fill('ops-e2e: re-run from the first workflow task');
        await browser.screenshot('09-reset-dialog');
        await resetDialog.getByRole('button', { name: 'Confirm' }).click();

        // The UI says where the new run is.
        await page.getByText('This Workflow has been reset').waitFor();
        const newRunHref = (await page.getByRole('link', { name: 'here', exact: true }).getAttribute('href')) ?? '';
        const newRunId = decodeURIComponent(newRunHref.split('/').at(-2) ?? '');
        expect(newRunId).not.toBe('');
        expect(newRunId).not.toBe(firstRunId);
        await browser.screenshot('10-reset-done');

        const rerun = context.client.workflow.getHandle(workflowId, newRunId);
        const result = (await rerun.result()) as RunResult;
        expect(result.outcome).toBe('completed');
        expect(result.steps.find((step) => step.name === 'add-credit')?.detail).toMatch(/not repeated/);
        const description = await rerun.describe();
        expect(description.runId).toBe(newRunId);
        // Nothing applied twice: no second add_subtract_credit or cancel_order.
        expect(effectCallsOf(context.stack, userId)).toHaveLength(changesBefore);
      });

      expect(webtvCallsOf(context.stack, userId, 'add_subtract_credit')).toHaveLength(1);
      expect(webtvCallsOf(context.stack, userId, 'cancel_order')).toHaveLength(1);
      expect(context.stack.webtvSim.state.creditOf(userId)).toBe(125);
      const effects = await context.stack.ledger.listEffects({ userId });
      expect(effects.map((effect) => [effect.step.replace(/#.*$/, ''), effect.state])).toEqual([
        ['add-credit', 'applied'],
        ['cancel-order', 'applied'],
      ]);
    },
    caseTimeoutMs,
  );
});

/**
 * Credit activities: add_subtract_credit once per effect key, and its undo. After an
 * unknown outcome the balance decides, against the credit observed before the call.
 */
import { FailureType } from '../contracts.ts';
import type { CompensationInput, CreditEffectInput, EffectResult, OrderflowActivities } from '../contracts.ts';
import type { EffectRecord } from '../ledger/types.ts';
import { formatCents, parsePositiveAmount } from '../money.ts';
import { failure } from './failures.ts';
import {
  attemptContext, didNotHappen, fromLedger, heartbeating, isDone, isUnresolved, numberField, oncePerBusinessKey, reading,
} from './protocol.ts';
import { orderEffectKey } from '../business-keys.ts';
import type { Protocol } from './protocol.ts';

/** What the balance says about an earlier attempt that changed it by `change` cents (+/-), if it took effect. */
function balanceVerdict(before: number | undefined, now: number, change: number): 'took-effect' | 'no-effect' | 'cannot-tell' {
  if (before === undefined) return 'cannot-tell';
  if (now === before + change) return 'took-effect';
  return now === before ? 'no-effect' : 'cannot-tell';
}

export function createCreditActivities(protocol: Protocol): Pick<OrderflowActivities, 'applyCreditChange' | 'undoCreditChange'> {
  const { ledger, deps: { webtv } } = protocol;

  /**
   * Our own unresolved credit effects on the same user make reconciliation unsound: wait for
   * them. `unresolved`: the user's pending and unknown effects, read with the lock.
   */
  function refuseWhileOtherEffectsUnresolved(userId: number, effectKey: string, unresolved: readonly EffectRecord[]): void {
    const first = unresolved.find((record) => record.key !== effectKey && record.kind.startsWith('credit.'));
    if (first) {
      throw failure(
        FailureType.UserBusy,
        `store user ${userId} has an unresolved credit effect ${first.key} (${first.state} since ${first.updatedAt}); ` +
          'its outcome must be settled before another credit change, or the balance cannot tell them apart. Will retry.',
        { nonRetryable: false },
      );
    }
  }

  async function readCredit(userId: number, callSignal: AbortSignal) {
    const credit = await reading(`the credit of store user ${userId}`, () => webtv.getCredit(userId, callSignal));
    return { creditCents: credit.buyerCredit, credit: formatCents(credit.buyerCredit) };
  }

  /** One credit change, once per effect key. `kind` is `credit.add` / `credit.subtract`. */
  async function creditEffect(input: CreditEffectInput): Promise<EffectResult> {
    const { effectKey, userId, creditAction } = input;
    const amount = parsePositiveAmount(input.amount);
    const verb = creditAction === 'add' ? 'added' : 'subtracted';
    const change = creditAction === 'add' ? amount : -amount;
    const what = `${formatCents(amount)} credit ${verb} ${creditAction === 'add' ? 'to' : 'from'} store user ${userId}`;
    const context = attemptContext();

    // The row and the user's unresolved effects come with the lock (one round trip): a recorded
    // outcome is returned without calling.
    return protocol.underUserLock(userId, effectKey, async (callSignal, lock) => {
      let row = lock.effect;
      if (row && isDone(row)) return fromLedger(row, what);
      refuseWhileOtherEffectsUnresolved(userId, effectKey, lock.unresolved);
      const now = await readCredit(userId, callSignal);

      if (row && isUnresolved(row)) {
        // An earlier attempt may have changed the credit: decide from the evidence.
        const before = numberField(row.observedBefore, 'creditCents');
        const observed = {
          'credit before the earlier attempt': before === undefined ? 'not recorded' : formatCents(before),
          'credit now': now.credit,
          'credit if it took effect': before === undefined ? 'unknown' : formatCents(before + change),
        };
        const verdict = balanceVerdict(before, now.creditCents, change);
        if (verdict === 'took-effect') {
          await ledger.record(effectKey, 'resolved-applied', {
            ...context,
            observedAfter: now,
            note: `reconciled: credit ${formatCents(before!)} → ${now.credit} shows the earlier attempt took effect`,
          });
          return { effectKey, status: 'applied', fromLedger: false, detail: `${what} (reconciled: credit ${formatCents(before!)} → ${now.credit})` };
        }
        if (verdict === 'no-effect') {
          protocol.refuseWhileAttemptMayLand(row, what, observed);
          row = await ledger.record(effectKey, 'resolved-not-applied', {
            ...context,
            observedAfter: now,
            note: `reconciled: credit unchanged at ${now.credit}, the earlier attempt did not take effect`,
          });
        } else {
          if (row.state === 'pending') {
            await ledger.record(effectKey, 'unknown', { ...context, observedAfter: now, note: 'the credit changed by another amount: cannot tell' });
          }
          throw failure(
            FailureType.OutcomeNeedsOperator,
            `Cannot tell whether ${what}: the credit was ${observed['credit before the earlier attempt']} before the earlier attempt, ` +
              `is ${now.credit} now, and would be ${observed['credit if it took effect']} if it took effect; something else changed it meanwhile. ` +
              'Check the user\'s credit history in the store admin, then choose retry (it did not take effect) or skip (it did).',
            { nonRetryable: true, observed },
          );
        }
      }

      // Arm the effect with what we observed, then call.
      const refundOf = input.refundOfOrderId;
      const request = { creditAction, amount: formatCents(amount), description: input.description, ...(refundOf === undefined ? {} : { refundOfOrderId: refundOf }) };
      // A refund holds its order's business key: the ledger refuses a second refund of the order from another run.
      const businessKey = refundOf === undefined ? undefined : orderEffectKey('refund', userId, refundOf);
      await protocol.arm(effectKey, row, { kind: `credit.${creditAction}`, userId, request, observedBefore: now, businessKey });
      const credit = { creditAction, amount, description: input.description };
      await protocol.call(effectKey, { credit: now.credit }, () => webtv.addSubtractCredit(userId, credit, callSignal));
      await lock.recordAndRelease(effectKey, 'applied', { ...context, response: { ok: `credit ${verb}` } });
      const after = formatCents(now.creditCents + change);
      return { effectKey, status: 'applied', fromLedger: false, detail: `${what} (credit ${now.credit} → ${after})` };
    });
  }

  /** Takes back a credit change, once; nothing when the forward change never happened. */
  async function undoCredit(input: CompensationInput): Promise<EffectResult> {
    const result = await undoCreditOnce(input);
    // Undone (or never added): the refund's business key is free for a later run of the order.
    if (result.status === 'applied' || result.status === 'not-needed') await ledger.releaseBusinessKey(input.forwardEffectKey, attemptContext());
    return result;
  }

  async function undoCreditOnce(input: CompensationInput): Promise<EffectResult> {
    const recordedUndo = await ledger.get(input.effectKey);
    if (recordedUndo && isDone(recordedUndo)) return fromLedger(recordedUndo, `${input.amount} credit taken back from store user ${input.userId}`);
    const neverAdded: EffectResult = { effectKey: input.effectKey, status: 'not-needed', fromLedger: false, detail: 'the credit was never added: nothing to undo' };
    const forward = await ledger.get(input.forwardEffectKey);
    if (forward === undefined || didNotHappen(forward)) return neverAdded;
    if (isUnresolved(forward)) {
      // Settle the forward effect first, under the same rules as its own retries.
      const before = numberField(forward.observedBefore, 'creditCents');
      const now = await protocol.underUserLock(input.userId, input.forwardEffectKey, (callSignal) => readCredit(input.userId, callSignal));
      const verdict = balanceVerdict(before, now.creditCents, parsePositiveAmount(input.amount));
      if (verdict === 'no-effect') {
        protocol.refuseWhileAttemptMayLand(forward, `${input.amount} credit added to store user ${input.userId}`, { 'credit before': formatCents(before!), 'credit now': now.credit });
        await ledger.record(input.forwardEffectKey, 'resolved-not-applied', { ...attemptContext(), observedAfter: now, note: 'reconciled while compensating: the credit was never added' });
        return neverAdded;
      }
      if (verdict === 'cannot-tell') {
        throw failure(
          FailureType.OutcomeNeedsOperator,
          `Cannot tell whether the credit being undone was ever added: store user ${input.userId} had ${before === undefined ? 'an unrecorded credit' : formatCents(before)} before, has ${now.credit} now. ` +
            'Take it back by hand if it was added, then choose skip; or retry once the balance tells.',
          { nonRetryable: true, observed: { 'credit before': before === undefined ? 'not recorded' : formatCents(before), 'credit now': now.credit } },
        );
      }
      await ledger.record(input.forwardEffectKey, 'resolved-applied', { ...attemptContext(), observedAfter: now, note: 'reconciled while compensating: the credit was added' });
    }
    return creditEffect({ ...input, creditAction: 'subtract' });
  }

  return {
    applyCreditChange: (input) => heartbeating(() => oncePerBusinessKey(() => creditEffect(input))),
    undoCreditChange: (input) => heartbeating(() => undoCredit(input)),
  };
}

/**
 * The activities: one function per workflow step, built by `createActivities(deps)` from
 * the API clients and the effect ledger (dependency injection, as in Temporal's samples).
 * Every changing activity follows the ledger protocol (./protocol.ts); the activities
 * live by what they touch: credit (./credit.ts), orders (./order.ts), JustClick bills
 * (./bill.ts) and the ledger's own bookkeeping (./bookkeeping.ts).
 */
import type { OrderflowActivities } from '../contracts.ts';
import { createBillActivities } from './bill.ts';
import { createBookkeepingActivities } from './bookkeeping.ts';
import { createCreditActivities } from './credit.ts';
import { createDecisionActivities } from './decisions.ts';
import { createOrderActivities } from './order.ts';
import { createProtocol } from './protocol.ts';
import type { ActivityDeps } from './protocol.ts';

export type { ActivityDeps } from './protocol.ts';

export function createActivities(deps: ActivityDeps): OrderflowActivities {
  const protocol = createProtocol(deps);
  return {
    ...createOrderActivities(protocol),
    ...createCreditActivities(protocol),
    ...createBillActivities(protocol),
    ...createBookkeepingActivities(protocol),
    ...createDecisionActivities({ approvalAbove: deps.approvalAbove }),
  };
}

/** The activities, one per workflow step, built from the API clients and the effect ledger (./protocol.ts). */
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

/** Every workflow orderflow's worker runs. Deterministic code only (see eslint.config.js). */
export { refundAndCancel } from './refund-and-cancel.ts';
export { processPaidOrder } from './process-paid-order.ts';
export { adjustCredit } from './adjust-credit.ts';
export { cancelOrder } from './cancel-order.ts';
export { bulkRun } from '../features/bulk/workflow.ts';
export { bulkRowsUpload, bulkReportPage } from '../features/bulk/rows-workflow.ts';
export { reconcile } from '../features/reconcile/workflow.ts';
export { reconcileFinding } from '../features/reconcile/finding-workflow.ts';
/** Every other workflow type: refused at once (the SDK runs a module's default export for types it does not export). */
export { unknownWorkflowType as default } from '../run-kit/run-identity.ts';

/**
 * The failure converter used when payload encryption is on (src/temporal/encryption.ts):
 * a failure's message and stack trace go into its encoded attributes, a payload the codec
 * encrypts, instead of staying in clear in the history. Loaded by path (the SDK requires a
 * `failureConverter` export), in the workflow sandbox too: it imports nothing else.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });

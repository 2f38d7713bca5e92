/**
 * The failure converter used when payload encryption is on (src/temporal/encryption.ts):
 * a failure's message and stack trace go into its encoded attributes, a payload the codec
 * encrypts, instead of staying in clear in the history. Loaded by path (the SDK requires a
 * `failureConverter` export), in the workflow sandbox too: it imports only @temporalio/common and the contracts.
 *
 * One exception: an operator decision the run refuses (type {@link decisionRefusedType})
 * keeps its message in clear, because the Temporal UI shows an update's refusal as it comes
 * (it does not decode it) and ops must read why. Those messages name only the field that is
 * wrong, the allowed actions and the run's state and step, never a value the operator typed
 * nor customer data (src/workflows/operator.ts); a rejected update is not stored in the history.
 */
import { ApplicationFailure, DefaultFailureConverter } from '@temporalio/common';
import type { FailureConverter, PayloadConverter, ProtoFailure } from '@temporalio/common';
import { FailureType } from '../contracts.ts';

/** The ApplicationFailure type of an operator decision a run refuses (its update validator). */
export const decisionRefusedType = FailureType.DecisionRefused;

const encoding = new DefaultFailureConverter({ encodeCommonAttributes: true });
const clear = new DefaultFailureConverter();

export const failureConverter: FailureConverter = {
  errorToFailure(error: unknown, payloadConverter: PayloadConverter): ProtoFailure {
    const inClear = error instanceof ApplicationFailure && error.type === decisionRefusedType;
    return (inClear ? clear : encoding).errorToFailure(error, payloadConverter);
  },
  failureToError(failure: ProtoFailure, payloadConverter: PayloadConverter): Error {
    return encoding.failureToError(failure, payloadConverter);
  },
};

/**
 * The failure converter used when payload encryption is on: a failure's message and stack go
 * into its encoded attributes. Loaded by path, in the workflow sandbox too. Exception: a refused
 * operator decision stays in clear, because the UI shows an update's refusal undecoded; its
 * message names no typed value nor customer data (src/workflows/operator.ts).
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

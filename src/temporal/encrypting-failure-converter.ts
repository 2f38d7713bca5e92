/**
 * The failure converter with encryption on, loaded by path (in the workflow sandbox too): messages and stacks are
 * encoded, except a refused operator decision's (docs/encryption.md), which names no typed value (src/workflows/operator.ts).
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

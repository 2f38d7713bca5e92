/**
 * interpretWebTvAnswer and the error table (src/apis/webtv/errors.ts), on answers built
 * by hand: every shape an answer can take, and the table's decisions.
 */
import { describe, expect, it } from 'vitest';
import { ApiRejectedError, OutcomeUnknownError } from '../../src/apis/outcome.ts';
import type { ApiCallError } from '../../src/apis/outcome.ts';
import type { HttpResponse } from '../../src/apis/http.ts';
import { classifyWebTvError, interpretWebTvAnswer, webTvErrorTable } from '../../src/apis/webtv/errors.ts';
import { webTvActions } from '../../src/apis/webtv/types.ts';
import type { WebTvAction, WebTvCallContext } from '../../src/apis/webtv/types.ts';

const signedUrl = new URL('https://store.example/api.php?go=store&do=cancel_order&iq=7&timestamp=1&salt=SALTVALUE&key=KEYVALUE&signature=SIG%2BVALUE%3D');

function context(action: WebTvAction = 'cancel_order', idempotent = false): WebTvCallContext {
  return { action, userId: 7, url: signedUrl, idempotent };
}

function response(status: number, bodyText: string, contentType = 'text/html; charset=UTF-8'): HttpResponse {
  return { status, bodyText, contentType };
}

function thrown(fn: () => unknown): ApiCallError {
  try {
    fn();
  } catch (error) {
    return error as ApiCallError;
  }
  throw new Error('expected a throw');
}

function expectNoQuery(error: Error): void {
  for (const marker of ['SALTVALUE', 'KEYVALUE', 'SIG', 'signature=', '?go=']) expect(error.message).not.toContain(marker);
  expect(JSON.stringify(error)).not.toContain('SIG');
}

describe('interpretWebTvAnswer: success', () => {
  it.each([
    ['ok', '{"ok":"The order was cancelled"}'],
    ['data', '{"data":{"buyer_credit":"3.00","buyer_credit_formatted":"3.00\\u20ac"}}'],
    ['list', '{"list":[]}'],
    ['id', '{"ok":"Order was placed","id":319}'],
  ])('returns the parsed object for a %s answer', (_field, body) => {
    expect(interpretWebTvAnswer(context(), response(200, body))).toEqual(JSON.parse(body));
  });

  it('parses PHP escapes (\\u20ac, \\/)', () => {
    const answer = interpretWebTvAnswer(context('list_orders'), response(200, '{"list":[{"date_formatted":"30\\/09\\/2017","total_formatted":"5.50\\u20ac"}]}'));
    expect(answer.list).toEqual([{ date_formatted: '30/09/2017', total_formatted: '5.50€' }]);
  });
});

describe('interpretWebTvAnswer: vendor errors', () => {
  it('throws ApiRejectedError with code, exact vendor text, table retryability and the documented message shape', () => {
    const error = thrown(() => interpretWebTvAnswer(context(), response(200, '{"error":"ERROR_NO_ORDER","error_long":"There is no order to cancel"}')));
    expect(error).toBeInstanceOf(ApiRejectedError);
    expect(error).toMatchObject({
      outcome: 'rejected',
      api: 'webtv',
      operation: 'cancel_order',
      code: 'ERROR_NO_ORDER',
      vendorText: 'There is no order to cancel',
      resendable: false,
      httpStatus: 200,
    });
    expect(error.message).toMatch(/^WebTV store API cancel_order for user 7: ERROR_NO_ORDER \| There is no order to cancel \(final: .+\)$/);
    expectNoQuery(error);
  });

  it('marks the vendor failures resendable (assumed: nothing changed)', () => {
    const cancelFailed = thrown(() => interpretWebTvAnswer(context(), response(200, '{"error":"ERROR","error_long":"Error cancelling the order"}')));
    expect(cancelFailed).toMatchObject({ outcome: 'rejected', resendable: true, code: 'ERROR' });
    expect(cancelFailed.message).toContain('(retryable: ');
    const processingFailed = thrown(() =>
      interpretWebTvAnswer(context('process_order'), response(200, '{"error":"ERROR_PROCESSING","error_long":"Error while processing the order"}')),
    );
    expect(processingFailed).toMatchObject({ outcome: 'rejected', resendable: true, code: 'ERROR_PROCESSING' });
  });

  it('keeps the vendor text exactly as received, even when it is matched loosely', () => {
    const error = thrown(() => interpretWebTvAnswer(context(), response(200, '{"error":"ERROR","error_long":"  error cancelling the ORDER "}')));
    expect(error.vendorText).toBe('  error cancelling the ORDER ');
    expect(error.resendable).toBe(true);
  });

  it('treats a documented code with an unknown text as undocumented (final)', () => {
    const error = thrown(() => interpretWebTvAnswer(context(), response(200, '{"error":"ERROR","error_long":"Database is on fire"}')));
    expect(error).toMatchObject({ outcome: 'rejected', resendable: false, code: 'ERROR', vendorText: 'Database is on fire' });
    expect(error.message).toContain('undocumented');
  });

  it('treats an unknown code as rejected, final and undocumented', () => {
    const error = thrown(() => interpretWebTvAnswer(context(), response(200, '{"error":"ERROR_SOMETHING_NEW","error_long":"New in v9"}')));
    expect(error).toBeInstanceOf(ApiRejectedError);
    expect(error).toMatchObject({ outcome: 'rejected', resendable: false, code: 'ERROR_SOMETHING_NEW', vendorText: 'New in v9' });
    expect(error.message).toContain('undocumented error');
  });

  it('accepts an error without error_long', () => {
    const error = thrown(() => interpretWebTvAnswer(context('place_order'), response(200, '{"error":"ERROR_EMPTY_CART"}')));
    expect(error).toMatchObject({ outcome: 'rejected', code: 'ERROR_EMPTY_CART', vendorText: undefined, resendable: false });
    expect(error.message).not.toContain('undocumented');
  });

  it('does not apply an error documented for one action to another', () => {
    // ERROR | User not found belongs to modify_cart.
    const error = thrown(() => interpretWebTvAnswer(context('cancel_order'), response(200, '{"error":"ERROR","error_long":"User not found"}')));
    expect(error.message).toContain('undocumented');
    const documented = thrown(() => interpretWebTvAnswer(context('modify_cart'), response(200, '{"error":"ERROR","error_long":"User not found"}')));
    expect(documented.message).not.toContain('undocumented');
  });

  it('takes a vendor error JSON on a 4xx status as the vendor error', () => {
    const error = thrown(() => interpretWebTvAnswer(context(), response(403, '{"error":"REQUEST_ERROR","error_long":"Invalid signature"}', 'application/json')));
    expect(error).toBeInstanceOf(ApiRejectedError);
    expect(error).toMatchObject({ code: 'REQUEST_ERROR', vendorText: 'Invalid signature', httpStatus: 403, resendable: false });
    expect(error.message).toContain('HTTP 403');
  });
});

describe('interpretWebTvAnswer: answers that are not the API speaking', () => {
  it('5xx with HTML → unknown (resendable only for read-only actions)', () => {
    const page = '<html><body><h1>502 Bad Gateway</h1></body></html>';
    const write = thrown(() => interpretWebTvAnswer(context('add_subtract_credit'), response(502, page)));
    expect(write).toBeInstanceOf(OutcomeUnknownError);
    expect(write).toMatchObject({ code: 'HTTP_502', resendable: false, httpStatus: 502 });
    const read = thrown(() => interpretWebTvAnswer(context('get_credit', true), response(502, page)));
    expect(read).toMatchObject({ outcome: 'unknown', resendable: true });
    expectNoQuery(write);
  });

  it('5xx even with vendor JSON stays unknown (the application may have failed after acting)', () => {
    const error = thrown(() => interpretWebTvAnswer(context(), response(500, '{"error":"ERROR","error_long":"Error cancelling the order"}')));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
  });

  it('4xx without vendor JSON → rejected by status', () => {
    const error = thrown(() => interpretWebTvAnswer(context(), response(404, '<h1>Not Found</h1>')));
    expect(error).toBeInstanceOf(ApiRejectedError);
    expect(error).toMatchObject({ code: 'HTTP_404', resendable: false });
  });

  it('200 with HTML or truncated JSON → unknown INVALID_JSON', () => {
    expect(thrown(() => interpretWebTvAnswer(context(), response(200, '<b>Warning</b>: mysql_connect()')))).toMatchObject({
      outcome: 'unknown',
      code: 'INVALID_JSON',
    });
    expect(thrown(() => interpretWebTvAnswer(context(), response(200, '{"ok":"The ord')))).toMatchObject({ outcome: 'unknown', code: 'INVALID_JSON' });
  });

  it.each([
    ['an object without a known field', '{"result":"fine"}'],
    ['an array', '[]'],
    ['null', 'null'],
    ['a string', '"ok"'],
    ['an error that is not a code', '{"error":true}'],
    ['only null success fields', '{"ok":null}'],
  ])('200 with %s → unknown UNEXPECTED_ANSWER', (_what, body) => {
    const error = thrown(() => interpretWebTvAnswer(context('add_subtract_credit'), response(200, body)));
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect(error).toMatchObject({ code: 'UNEXPECTED_ANSWER', resendable: false, operation: 'add_subtract_credit' });
    expect(error.message).toContain('WebTV store API add_subtract_credit for user 7');
  });
});

describe('webTvErrorTable', () => {
  it('names only known actions and has no duplicate entries', () => {
    const seen = new Set<string>();
    for (const rule of webTvErrorTable) {
      const actions = rule.actions === 'every' ? ['every'] : rule.actions;
      for (const action of actions) {
        if (action !== 'every') expect(webTvActions).toContain(action);
        const key = `${action} ${rule.code} ${rule.text ?? '*'}`;
        expect(seen.has(key), key).toBe(false);
        seen.add(key);
      }
      expect(rule.meaning.length).toBeGreaterThan(0);
      expect(rule.whatToDo.length).toBeGreaterThan(0);
    }
  });

  it.each([
    ['cancel_order', 'ERROR_NO_ORDER', 'There is no order to cancel', false],
    ['cancel_order', 'ERROR', 'Error cancelling the order', true],
    ['process_order', 'ERROR_NO_ORDER', 'There is no order to process', false],
    ['process_order', 'ERROR_AMOUNT_DUE', "Can't process the order because there is amount due", false],
    ['process_order', 'ERROR_CURRENCY_MISMATCH', "Can't process the order because the order currency does not match the Store configuration currency", false],
    ['process_order', 'ERROR_PROCESSING', 'Error while processing the order', true],
    ['add_subtract_credit', 'REQUEST_ERROR', 'Invalid credit action', false],
    ['add_subtract_credit', 'REQUEST_ERROR', 'Invalid amount', false],
    ['add_subtract_credit', 'ERROR_CANT_SUBTRACT', "Can't subtract credit because the user does not have any available", false],
    ['modify_cart', 'REQUEST_ERROR', 'Invalid cart action', false],
    ['modify_cart', 'REQUEST_ERROR', 'Invalid or missing product ID', false],
    ['modify_cart', 'REQUEST_ERROR', 'Invalid product quantity', false],
    ['modify_cart', 'ERROR', 'User not found', false],
    ['modify_cart', 'CART_ACTION_ERROR', 'whatever the store says', false],
    ['place_order', 'ERROR_ORDER_ALREADY_PLACED', 'any text', false],
    ['place_order', 'ERROR_EMPTY_CART', 'any text', false],
    ['place_order', 'ERROR_MIN_PURCHASE', 'any text', false],
    ['get_credit', 'REQUEST_ERROR', 'Invalid User ID', false],
    ['list_orders', 'REQUEST_ERROR', 'Missing signature', false],
    ['get_cart', 'REQUEST_ERROR', 'Invalid key', false],
    ['place_order', 'REQUEST_ERROR', 'Invalid signature', false],
    ['add_subtract_credit', 'REQUEST_ERROR', 'Request expired', true],
    ['add_subtract_credit', 'REQUEST_ERROR', 'Salt already used', true],
  ] as const)('%s %s | %s → documented, resendable=%s', (action, code, text, resendable) => {
    expect(classifyWebTvError(action, code, text)).toMatchObject({ documented: true, resendable });
  });

  it('does not know an action-specific text under another action', () => {
    expect(classifyWebTvError('get_credit', 'REQUEST_ERROR', 'Invalid amount').documented).toBe(false);
  });
});

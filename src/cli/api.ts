/** `orderflow api webtv|justclick`: one signed call, its answer as JSON; bad usage is refused before the configuration is read. */
import { configDefault, loadConfig } from '../config.ts';
import { ApiRejectedError } from '../apis/outcome.ts';
import { isWebTvAction, webTvActions } from '../apis/webtv/types.ts';
import { checkWebTvFields } from '../apis/webtv/fields.ts';
import { printable } from '../single-line-text.ts';
import { justClickMethods, justClickReservedFields } from '../apis/justclick/types.ts';
import { justClickVariables, webTvVariables } from './environment.ts';
import { UsageError, exitCodes, leafCommand, line, wrapText } from './framework.ts';
import type { GroupCommand } from './framework.ts';

function parseUserId(value: string | undefined): number {
  if (value === undefined) throw new UsageError('--user <id> is required: the WebTV user id the action acts on (the API\'s "iq").');
  const userId = /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  if (!(Number.isSafeInteger(userId) && userId >= 1)) {
    throw new UsageError(`--user ${JSON.stringify(value)} is not a user id; give a whole number of 1 or more.`);
  }
  return userId;
}

/** `--set name=value` pairs, in order; each name non-empty and given once, except PHP list names (`name[]`) where `lists` repeat. */
function parseSetFields(values: readonly string[] | undefined, lists: boolean): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const value of values ?? []) {
    const equals = value.indexOf('=');
    if (equals <= 0) throw new UsageError(`--set ${JSON.stringify(value)} must have the form name=value (the value may be empty: name=).`);
    const name = value.slice(0, equals);
    if (pairs.some(([given]) => given === name) && !(lists && name.endsWith('[]'))) {
      throw new UsageError(`--set ${name}=... is given twice; give each field once.`);
    }
    pairs.push([name, value.slice(equals + 1)]);
  }
  return pairs;
}

const webTvActionList = webTvActions.join(', ');

const setOption = { type: 'string', value: 'name=value', multiple: true } as const;

/** What an API error, bad usage and bad configuration do, for both commands' help. */
const failures = `On an API error the code and text are printed on stderr as "CODE | text", followed by
what it means, and the exit status is 1. Bad usage or configuration exits with 2 without
sending anything.`;

const apiWebTvCommand = leafCommand({
  name: 'webtv',
  summary: 'Call one WebTV store action for one user and print the JSON answer',
  usage: 'api webtv <action> --user <id> [--set name=value]...',
  environment: { variables: webTvVariables },
  help: `Calls one action of the WebTV store API (section "store") for one user, signed with
WEBTV_KEY_ID and WEBTV_SHARED_SECRET, at WEBTV_API_URL, and prints the JSON answer.

${wrapText(`Actions: ${webTvActionList}.`, 88, 2)}`,
  options: {
    user: { type: 'string', short: 'u', value: '<id>', help: 'The WebTV user id the action acts on (required)' },
    set: { ...setOption, help: 'A POST field for the action; repeat for several' },
  },
  positionals: true,
  notes: `${failures}

Beware: actions that change something (cancel_order, process_order,
add_subtract_credit, modify_cart, place_order) take effect immediately, and
add_subtract_credit is not idempotent: do not repeat it after an unknown outcome
without checking get_credit first.

Examples:
  orderflow api webtv get_credit --user 42
  orderflow api webtv list_orders --user 42
  orderflow api webtv add_subtract_credit --user 42 --set creditAction=add --set amount=5.50 --set "description=Goodwill"
  orderflow api webtv cancel_order --user 42 --set requester=ADMIN
`,
  async run({ values, positionals }, context) {
    const [action, ...extra] = positionals;
    if (action === undefined) throw new UsageError(`the action is missing; it is one of: ${webTvActionList}.`);
    if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}; give one action, and fields with --set name=value.`);
    if (!isWebTvAction(action)) throw new UsageError(`unknown action ${JSON.stringify(action)}; the actions are: ${webTvActionList}.`);
    const userId = parseUserId(values.user);
    const checked = checkWebTvFields(action, Object.fromEntries(parseSetFields(values.set, false)));
    if ('problems' in checked) throw new UsageError(`${checked.problems.join('; ')}. Nothing was sent.`);
    const fields = checked.fields;

    const config = loadConfig(context.env, ['webtv']);
    const { createWebTvClient } = await import('../apis/webtv/client.ts');
    const { InvalidWebTvInputError } = await import('../apis/webtv/errors.ts');
    const client = createWebTvClient(config.webtv);
    try {
      line(context, JSON.stringify(await client.call(action, userId, fields), null, 2));
      return exitCodes.ok;
    } catch (error) {
      // Refused by the client before sending: a usage problem.
      if (error instanceof InvalidWebTvInputError) throw new UsageError(error.message);
      throw error;
    } finally {
      await client.close();
    }
  },
});

const justClickMethodList = justClickMethods.join(', ');

const apiJustClickCommand = leafCommand({
  name: 'justclick',
  summary: 'Call one JustClick API method and print the verified JSON answer',
  usage: 'api justclick <Method> [--set name=value]...',
  environment: { variables: justClickVariables },
  help: wrapText(`Calls one JustClick API method, signed with JUSTCLICK_LOGIN and JUSTCLICK_SECRET, at
JUSTCLICK_API_URL (default ${configDefault('JUSTCLICK_API_URL')}), verifies the answer's signature, and
prints it as JSON. Field names may be PHP-style nested keys: goods[0][good_name]=... goods[0][good_sum]=...
are sent as one "goods" array. Methods: ${justClickMethodList}. Reserved names
(${justClickReservedFields.join(', ')}) cannot be fields.`),
  options: { set: { ...setOption, help: 'A request field; repeat for several (order is kept)' } },
  positionals: true,
  notes: `${failures}

DeleteOrder of an order that does not exist answers 200 or 302: it is already absent, which
is not a failure (exit 0). An answer whose signature does not match is refused (exit 1).

Examples:
  orderflow api justclick DeleteOrder --set bill_id=1111
  orderflow api justclick CreateOrder --set bill_id=1111 --set bill_email=buyer@example.com \\
      --set "goods[0][good_name]=course" --set "goods[0][good_sum]=990.00"
  orderflow api justclick UpdateOrderStatus --set bill_id=1111 --set status=sale
`,
  async run({ values, positionals }, context) {
    const [method, ...extra] = positionals;
    if (method === undefined) throw new UsageError('the method is missing, e.g. DeleteOrder or CreateOrder.');
    if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}; give one method, and fields with --set name=value.`);
    if (!(justClickMethods as readonly string[]).includes(method)) {
      throw new UsageError(`${JSON.stringify(method)} is not a JustClick method this command knows; the methods are: ${justClickMethodList}. Nothing was sent.`);
    }
    const pairs = parseSetFields(values.set, true);
    const reserved = pairs.map(([name]) => name.replace(/\[.*$/, '')).filter((name) => (justClickReservedFields as readonly string[]).includes(name));
    if (reserved.length > 0) {
      throw new UsageError(`--set ${reserved[0]}=... is a reserved name (the client signs the request with it); leave it out. Nothing was sent.`);
    }
    const { nestPhpFields } = await import('../apis/justclick/php-fields.ts');
    let params: ReturnType<typeof nestPhpFields>;
    try {
      params = nestPhpFields(pairs);
    } catch (error) {
      throw new UsageError(`the --set fields do not form valid PHP-style fields: ${error instanceof Error ? error.message : String(error)}`);
    }

    const config = loadConfig(context.env, ['justclick']);
    const { createJustClickClient } = await import('../apis/justclick/client.ts');
    const { justClickNonError } = await import('../apis/justclick/errors.ts');
    const client = createJustClickClient(config.justclick);
    try {
      line(context, JSON.stringify(await client.call(method, params), null, 2));
      return exitCodes.ok;
    } catch (error) {
      // Refused by the client before sending (see refuseJustClickInput): a usage problem.
      if (error instanceof ApiRejectedError && error.code === 'INVALID_INPUT' && error.httpStatus === undefined) {
        throw new UsageError(error.message);
      }
      // An answer that is not an error for this method (DeleteOrder of an absent bill): say so, exit 0.
      if (error instanceof ApiRejectedError && error.api === 'justclick' && justClickNonError(method, error.code) !== undefined) {
        context.stderr.write(printable(`${error.code} | ${error.vendorText ?? ''}\n${error.message}\n`));
        return exitCodes.ok;
      }
      throw error;
    } finally {
      await client.close();
    }
  },
});

export const apiCommand: GroupCommand = {
  name: 'api',
  summary: 'Call one WebTV store action or JustClick method, signed, and print the answer',
  help: `Sends one signed request to one of the two APIs and prints its answer. For trying
credentials, inspecting a user's state, and repairs by hand; workflows do not use it.`,
  subcommands: [apiWebTvCommand, apiJustClickCommand],
};

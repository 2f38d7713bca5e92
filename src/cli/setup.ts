/** `orderflow setup`: prepares a Temporal namespace for orderflow (once per namespace). */
import { loadConfig } from '../config.ts';
import { connectClient } from '../client/connect.ts';
import { registerSearchAttributes } from '../temporal/readiness.ts';
import { searchAttributeRegistrations } from '../search-attributes.ts';
import { exitCodes, leafCommand, line, wrapText } from './framework.ts';
import { withoutWorkerSettings } from './environment.ts';

export const setupCommand = leafCommand({
  name: 'setup',
  summary: "Prepare the Temporal namespace: check it exists, register orderflow's search attributes",
  usage: 'setup',
  help: wrapText(`Checks that the namespace exists and registers the search attributes every orderflow run
carries (${searchAttributeRegistrations.map(({ name, cliType }) => `${name} ${cliType}`).join(', ')}).
Idempotent: run it again and it only reports what exists. Needs permission to add search attributes
(on Temporal Cloud, add them in the namespace's settings or with tcld if your key may not).`),
  notes: `Exit status: 0 ready; 1 Temporal could not be reached; 2 the namespace does not exist, the
credential was refused, or an attribute exists with another type.`,
  async run(_args, context) {
    const config = loadConfig(withoutWorkerSettings(context.env), ['temporal']).temporal;
    const client = await connectClient(config, { checkReady: false });
    try {
      const outcome = await registerSearchAttributes(client.connection, config.connection);
      line(context, `Temporal ${config.connection.describe()}: namespace ${config.namespace} exists.`);
      for (const name of outcome.created) line(context, `  created  ${name}`);
      for (const name of outcome.existing) line(context, `  existing ${name}`);
      const created = outcome.created.length;
      if (created === 0) line(context, 'Nothing to do: every orderflow search attribute was already registered.');
      else line(context, `Registered ${created} search attribute(s); orderflow is ready to run here.`);
      return exitCodes.ok;
    } finally {
      await client.connection.close();
    }
  },
});

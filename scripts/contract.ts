/**
 * Rewrites the caller contract, clients/php/resources/orderflow.contract.json, from the
 * workflow registry and src/contracts.ts (harness/contract.ts builds it).
 *
 *   npm run contract
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { contractPath, renderContract } from '../harness/contract.ts';

if (import.meta.main) {
  const text = renderContract();
  let previous = '';
  try {
    previous = readFileSync(contractPath, 'utf8');
  } catch {
    // first generation
  }
  writeFileSync(contractPath, text);
  process.stdout.write(`${previous === text ? 'Unchanged' : 'Wrote'} ${contractPath}\n`);
}

// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

/** Workflow code (src/workflows, src/run-kit, the feature workflows) runs in Temporal's deterministic
 * sandbox: it may import only @temporalio/workflow, the run kit, pure shared modules (contracts, validation,
 * single-line texts, Markdown escaping, effect keys), and types from elsewhere. test/unit/layout.test.ts
 * checks the layers of every import. */
const nodeBuiltins = builtinModules.flatMap((name) => [name, `node:${name}`]);

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.venv/', 'data/', 'coverage/', 'docs/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
        AbortController: 'readonly', AbortSignal: 'readonly', FormData: 'readonly', TextDecoder: 'readonly',
        TextEncoder: 'readonly', fetch: 'readonly', Request: 'readonly', Response: 'readonly', Blob: 'readonly',
        structuredClone: 'readonly', queueMicrotask: 'readonly', setImmediate: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/workflows/**/*.ts', 'src/run-kit/**/*.ts', 'src/features/*/workflow.ts', 'src/features/*/*-workflow.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, 'undici', 'pg', '@temporalio/activity', '@temporalio/client', '@temporalio/worker'].map(
            (name) => ({ name, message: 'Workflow code must be deterministic: no I/O modules in workflow code (src/workflows, src/run-kit, src/features/*/workflow.ts).' }),
          ),
          patterns: [
            {
              group: [
                '**/apis/**', '**/ledger/**', '!**/ledger/keys.ts', '**/config.ts', '**/simulators/**', '**/activities/**', '**/activities.ts',
                '**/client/**', '**/client.ts', '**/cli/**', '**/cli.ts', '**/worker.ts', '**/telemetry/**', '**/temporal/**',
              ],
              allowTypeImports: true,
              message: 'Workflow code imports only @temporalio/workflow, the run kit, pure shared modules and `import type` from elsewhere (see test/unit/layout.test.ts).',
            },
          ],
        },
      ],
    },
  },
);

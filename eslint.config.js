// ESLint 9 flat config with typescript-eslint's type-aware rules.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Imports `workflows/core` may not use: it must run in the Temporal sandbox, in Node and in the browser. */
const nodeBuiltins = [...new Set(builtinModules.map((m) => m.replace(/^node:/, '')))];
const coreRestrictions = {
  paths: nodeBuiltins.map((name) => ({
    name,
    message:
      'workflows/core is pure: no Node built-ins (it also runs in the workflow sandbox and the browser).',
  })),
  patterns: [
    {
      group: ['node:*'],
      message:
        'workflows/core is pure: no Node built-ins (it also runs in the workflow sandbox and the browser).',
    },
    {
      group: ['@temporalio/*'],
      message: 'workflows/core does not depend on Temporal; keep Temporal code in workflows/*.ts or worker/.',
    },
  ],
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'data/',
      'tools/',
      'dist/',
      'ui/dist/',
      'coverage/',
      'test/replay/*.json',
      'test/browser/artifacts/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Plain JavaScript (this file, bin/ launchers) is outside the TypeScript projects.
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
  },
  {
    files: ['workflows/core/**'],
    rules: { 'no-restricted-imports': ['error', coreRestrictions] },
  },
);

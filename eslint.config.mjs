import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Which libs each lib may import (docs/architecture.md): protocol <- storage <- broker <-
// cluster; the client on protocol only (the cluster's replica fetchers use its Connection);
// the mirror on the client and protocol's record formats; the console on the client, the
// mirror and metrics. Metrics depends on nothing, so a lib that serves metrics may use it
// without risking a cycle.
const LIB_DEPENDENCIES = {
  protocol: [],
  storage: ['protocol'],
  broker: ['protocol', 'storage', 'metrics'],
  cluster: ['protocol', 'storage', 'broker', 'client', 'metrics'],
  client: ['protocol'],
  mirror: ['protocol', 'client', 'metrics'],
  metrics: [],
  console: ['client', 'mirror', 'metrics'],
};
const LIBS = Object.keys(LIB_DEPENDENCIES);

// Zones for import-x/no-restricted-paths, which judges the resolved file, so an alias and a
// relative path are caught alike: a lib reaches another lib only through its index.ts (the
// alias), only the libs it depends on, and its own modules never through its own index.
const libZones = LIBS.flatMap((lib) => [
  ...LIBS.filter((other) => other !== lib).map((other) =>
    LIB_DEPENDENCIES[lib].includes(other)
      ? {
          target: `./libs/${lib}`,
          from: `./libs/${other}`,
          except: ['./src/index.ts'],
          message: `import @tributary/${other}, not its modules.`,
        }
      : {
          target: `./libs/${lib}`,
          from: `./libs/${other}`,
          message: `${lib} must not depend on ${other} (docs/architecture.md).`,
        },
  ),
  {
    target: `./libs/${lib}/src/**/!(index).ts`,
    from: `./libs/${lib}/src/index.ts`,
    message: `import the module itself, not the lib's own index.`,
  },
]);
const appZones = ['./apps', './test'].flatMap((target) =>
  LIBS.map((lib) => ({
    target,
    from: `./libs/${lib}`,
    except: ['./src/index.ts'],
    message: `import @tributary/${lib}, not its modules.`,
  })),
);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'var/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      // import-x reads the modules a file imports itself (for no-cycle): TypeScript sources,
      // resolved through tsconfig.json's @tributary/* paths.
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })],
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's test() and describe() return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      // Off: an async function without await is how our code implements a promise-returning
      // interface (TopicService, FlowStatusSource, waitFor probes, eachMessage): async turns a
      // synchronous throw into the rejection callers handle. Promises that are not awaited
      // are no-floating-promises' job.
      '@typescript-eslint/require-await': 'off',
      // Off: `${err}` and `${replicas}` (an unknown caught error, an array of ids) print as
      // meant in our messages; no-base-to-string still catches what would print
      // "[object Object]".
      '@typescript-eslint/restrict-template-expressions': 'off',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones: [...libZones, ...appZones] }],
    },
  },
  {
    // Tests assert on parsed JSON (REST bodies, the Python clients' and kcat's output), which
    // is `any` by nature; casting every step would only hide what the assertions check.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The dashboard: plain ES modules run by the browser, linted without type information.
    files: ['libs/console/static/**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { sourceType: 'module', globals: globals.browser },
  },
  {
    // The command's stub and the set-up scripts: CommonJS run by Node before anything is built.
    files: ['bin/**/*.js', 'scripts/**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      // `const crypto = require('node:crypto')` names the module as Node's global does.
      'no-redeclare': ['error', { builtinGlobals: false }],
    },
  },
  {
    files: ['eslint.config.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
);

import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ESLint } from 'eslint';
import { ROOT } from '../support/broker-process';

// The rules that keep the libs' import graph one way and promises handled, run through
// eslint.config.mjs on snippets placed in real files of the libs (the type-aware parser
// needs a file of tsconfig.json; the snippet replaces its text for this lint only). If a
// rule stopped resolving @tributary/* or vanished from the config, these would fail.
const eslint = new ESLint({ cwd: ROOT });

/** `import { name } from '@tributary/lib'`, put together at run time: the build's tsc-alias
 * rewrites every literal import of an alias in the compiled code, strings included. */
const importFrom = (name: string, lib: string): string =>
  `import { ${name} } from '@tributary/${lib}';\nexport const imported = ${name};\n`;

async function ruleIds(file: string, text: string): Promise<string[]> {
  const [result] = await eslint.lintText(text, { filePath: path.join(ROOT, file) });
  const fatal = result.messages.find((m) => m.fatal === true);
  assert.equal(fatal, undefined, `${file} did not parse: ${fatal?.message}`);
  return result.messages.map((m) => m.ruleId ?? '(none)');
}

describe('lint rules', () => {
  test('a lib importing against the dependency direction is refused', async () => {
    const ids = await ruleIds('libs/protocol/src/index.ts', importFrom('Connection', 'client'));
    assert.ok(ids.includes('import-x/no-restricted-paths'), ids.join(', '));
  });

  test('a cycle between libs is refused', async () => {
    // broker's index reaches storage's index, which exports log-manager: a cycle back to here.
    const ids = await ruleIds('libs/storage/src/log-manager.ts', importFrom('BrokerModule', 'broker'));
    assert.ok(ids.includes('import-x/no-cycle'), ids.join(', '));
    assert.ok(ids.includes('import-x/no-restricted-paths'), ids.join(', '));
  });

  test('a cycle between modules of one lib is refused', async () => {
    // broker.module imports broker.
    const ids = await ruleIds(
      'libs/broker/src/broker.ts',
      "import { BrokerModule } from './broker.module';\nexport const imported = BrokerModule;\n",
    );
    assert.deepEqual(ids, ['import-x/no-cycle']);
  });

  test("a lib reaching into another lib's modules by a relative path is refused", async () => {
    const ids = await ruleIds(
      'libs/broker/src/broker.ts',
      "import { PartitionLog } from '../../storage/src/partition-log';\nexport const imported = PartitionLog;\n",
    );
    assert.deepEqual(ids, ['import-x/no-restricted-paths']);
  });

  test('a lib importing its own index is refused', async () => {
    const ids = await ruleIds('libs/mirror/src/config.ts', importFrom('Mirror', 'mirror'));
    assert.ok(ids.includes('import-x/no-restricted-paths'), ids.join(', '));
  });

  test('an import the architecture allows passes', async () => {
    const ids = await ruleIds('libs/mirror/src/index.ts', importFrom('Connection', 'client'));
    assert.deepEqual(ids, []);
  });

  test('a floating promise and a promise where a callback returns void are refused', async () => {
    const ids = await ruleIds(
      'libs/client/src/index.ts',
      [
        'async function flush(): Promise<void> {',
        '  await new Promise((resolve) => setTimeout(resolve, 1));',
        '}',
        'export function close(): void {',
        '  flush();',
        '  [1, 2].forEach(async () => {',
        '    await flush();',
        '  });',
        '}',
        '',
      ].join('\n'),
    );
    assert.deepEqual(ids.sort(), [
      '@typescript-eslint/no-floating-promises',
      '@typescript-eslint/no-misused-promises',
    ]);
  });
});

#!/usr/bin/env node
'use strict';
// Runs every compiled *.test.js under dist with node's test runner (installing and building first, see prepare.js).
// Arguments filter the files by substring: `npm test -- storage interop`.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
require('./prepare').prepare('test');

function walk(dir, out) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(p, out);
    else if (entry.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk(path.join(root, 'dist'), [])
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-concurrency=1', '--test-timeout=300000', ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, TRIBUTARY_ROOT: root } },
);
process.exit(result.status ?? 1);

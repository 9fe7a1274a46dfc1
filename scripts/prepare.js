#!/usr/bin/env node
'use strict';
// Makes a fresh clone runnable: installs the locked packages when node_modules is missing or
// older than package-lock.json, then builds. Used by `npm start` and `npm test`.
const { execSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const installed = path.join(root, 'node_modules', '.package-lock.json');
const lock = path.join(root, 'package-lock.json');
if (!fs.existsSync(installed) || fs.statSync(installed).mtimeMs < fs.statSync(lock).mtimeMs) {
  execSync('npm ci --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
}
execSync('npm run build --silent', { cwd: root, stdio: 'inherit' });

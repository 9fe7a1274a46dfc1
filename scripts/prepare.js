#!/usr/bin/env node
'use strict';
// Makes a fresh clone runnable: first the system packages the command needs (system-deps.js),
// then the locked npm packages when node_modules is missing or was installed from another
// package-lock.json, then the build. Used by `npm start`, `npm test`, `npm run bench` and `npm run chaos`.
// Usage: node scripts/prepare.js start|test|bench|chaos
const { execSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { ensureSystemDeps } = require('./system-deps');

const root = path.join(__dirname, '..');

function prepare(command) {
  ensureSystemDeps(command);
  const lockHash = crypto
    .createHash('sha256')
    .update(fs.readFileSync(path.join(root, 'package-lock.json')))
    .digest('hex');
  const marker = path.join(root, 'node_modules', '.tributary-lock-sha256');
  const installed = fs.existsSync(path.join(root, 'node_modules', '.package-lock.json'));
  const stale = fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') !== lockHash;
  if (!installed || stale) {
    execSync('npm ci --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
    fs.writeFileSync(marker, lockHash);
  }
  execSync('npm run build --silent', { cwd: root, stdio: 'inherit' });
}

module.exports = { prepare };

if (require.main === module) prepare(process.argv[2]);

#!/usr/bin/env node
'use strict';
// Entry point for `npx tributary`: runs the built application (npm run build first).
const path = require('node:path');
const main = path.join(__dirname, '..', 'dist', 'apps', 'tributary', 'src', 'main.js');
try {
  require.resolve(main);
} catch {
  console.error('tributary: not built yet; run `npm install && npm run build` first');
  process.exit(1);
}
require(main);

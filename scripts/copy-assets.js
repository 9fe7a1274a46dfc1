#!/usr/bin/env node
'use strict';
// Copies the non-TypeScript files the libraries load at run time (the cluster's Lua scripts)
// next to their compiled code under dist/, as tsc does not.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const ASSET = /\.lua$/;

function copy(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const from = path.join(dir, entry.name);
    if (entry.isDirectory()) copy(from);
    else if (ASSET.test(entry.name)) {
      const to = path.join(root, 'dist', path.relative(root, from));
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(from, to);
    }
  }
}

copy(path.join(root, 'libs'));

#!/usr/bin/env node
// solc-adapter: lets forge (and foundry-compilers) use npm's solcjs as if it were a native `solc`.
//
// No native solc can be downloaded on our machines, so foundry.toml points `solc` at a wrapper that
// runs this file. Only the two calls forge makes are supported:
//   solc --version                       -> "Version: <solc.version()>" (forge parses this line)
//   solc --standard-json [--base-path P] [--include-path P]... [--allow-paths ...] < input.json
// solcjs's own CLI is not used: it prints an SMT notice on stdout that corrupts the JSON forge reads.
'use strict';

const fs = require('fs');
const path = require('path');

function fail(message) {
  process.stderr.write(`solc-adapter: ${message}\n`);
  process.exit(2);
}

let solc;
try {
  solc = require(path.join(__dirname, '..', 'node_modules', 'solc'));
} catch (err) {
  fail(`cannot load npm package "solc" from node_modules (${err.message}); run \`make setup\` first`);
}

const args = process.argv.slice(2);
if (args.includes('--version') || args.includes('-v')) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  fail(`unsupported arguments ${JSON.stringify(args)}: only --version and --standard-json are implemented`);
}

// Import roots, in the order solc itself searches them: base path first, then include paths.
const roots = [];
for (let i = 0; i < args.length; i++) {
  const flag = args[i];
  if (flag === '--base-path' || flag === '--include-path') {
    if (i + 1 >= args.length) fail(`${flag} needs a directory`);
    roots.push(path.resolve(args[++i]));
  } else if (flag === '--allow-paths') {
    i++; // solcjs reads files through our callback only; nothing to allow
  } else if (flag.startsWith('--base-path=') || flag.startsWith('--include-path=')) {
    roots.push(path.resolve(flag.slice(flag.indexOf('=') + 1)));
  }
}
if (roots.length === 0) roots.push(process.cwd());

function findImports(importPath) {
  const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((root) => path.join(root, importPath));
  for (const candidate of candidates) {
    try {
      return { contents: fs.readFileSync(candidate, 'utf8') };
    } catch (_) {
      // try the next root
    }
  }
  return { error: `File not found: ${importPath} (searched ${roots.join(', ')})` };
}

const input = fs.readFileSync(0, 'utf8');
process.stdout.write(solc.compile(input, { import: findImports }));

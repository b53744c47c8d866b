// The page-weight budget (web app issue): the JavaScript of dist/ at most 300 KiB gzipped. Run after `vite build`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET = 300 * 1024;
const walk = (dir) => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
const files = walk(new URL('../dist', import.meta.url).pathname).filter((f) => f.endsWith('.js'));
if (!files.length) throw new Error('dist/ holds no JavaScript: run vite build first');
const total = files.reduce((sum, f) => sum + gzipSync(readFileSync(f), { level: 9 }).length, 0);
const line = `page weight: ${(total / 1024).toFixed(1)} KiB of JavaScript gzipped (budget ${BUDGET / 1024} KiB)`;
if (total > BUDGET) {
  console.error(`${line}: over budget`);
  process.exit(1);
}
console.log(line);

// The npm side of the browser tests is pinned and comes only from the npm
// registry: package.json names exact versions, and every package in
// package-lock.json has a sha512 integrity and no download address other
// than the registry's (npm may omit the address; it then asks the registry).
//   node npm_lock.mjs SOURCE_ROOT
import fs from 'node:fs';
import path from 'node:path';

const root = process.argv[2];
const registry = 'https://registry.npmjs.org/';
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
const failures = [];

for (const field of ['dependencies', 'devDependencies', 'optionalDependencies'])
  for (const [name, range] of Object.entries(pkg[field] || {}))
    if (!/^\d+\.\d+\.\d+$/.test(range))
      failures.push(`package.json: ${name} ${range} is not one exact version`);

const packages = Object.entries(lock.packages || {}).filter(([where]) => where !== '');
if (lock.lockfileVersion < 2 || packages.length === 0)
  failures.push('package-lock.json: no packages section (lockfileVersion >= 2 expected)');
for (const [where, p] of packages) {
  if (p.link || p.inBundle)
    continue;
  if (p.resolved !== undefined && !p.resolved.startsWith(registry))
    failures.push(`${where}: downloaded from ${p.resolved}`);
  if (!/^sha512-/.test(p.integrity || ''))
    failures.push(`${where}: no sha512 integrity`);
}
for (const field of ['dependencies', 'devDependencies', 'optionalDependencies'])
  for (const [name, range] of Object.entries(pkg[field] || {})) {
    const locked = lock.packages && lock.packages[`node_modules/${name}`];
    if (!locked || locked.version !== range)
      failures.push(`package-lock.json does not lock ${name} at ${range}: run npm install`);
  }

if (failures.length) {
  for (const f of failures)
    console.error(`FAIL: ${f}`);
  process.exit(1);
}
console.log(`${packages.length} locked package(s), all from ${registry}`);

// Checks that every TypeScript project's tsconfig `references` name exactly the workspace packages
// it depends on at runtime (`dependencies` and `peerDependencies`), so `tsc -b` builds in the order
// the package graph says. Run by `pnpm lint`.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const groups = ['packages', 'apps', 'tooling', 'tests', 'examples'];
const projects = new Map(); // package name -> directory
for (const group of groups) {
  for (const entry of readdirSync(join(root, group), { withFileTypes: true })) {
    const dir = join(root, group, entry.name);
    if (!entry.isDirectory() || !existsSync(join(dir, 'package.json'))) continue;
    projects.set(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name, dir);
  }
}

// tsconfig files may carry comments and trailing commas; these ones do not, so JSON.parse is enough.
const problems = [];
for (const [name, dir] of projects) {
  const tsconfig = join(dir, 'tsconfig.json');
  if (!existsSync(tsconfig)) continue;
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const runtime = { ...manifest.dependencies, ...manifest.peerDependencies };
  const expected = Object.keys(runtime)
    .filter((dep) => projects.has(dep) && existsSync(join(projects.get(dep), 'tsconfig.json')))
    .map((dep) => relative(dir, projects.get(dep)))
    .sort();
  const actual = (JSON.parse(readFileSync(tsconfig, 'utf8')).references ?? []).map((r) => relative(dir, resolve(dir, r.path))).sort();
  const missing = expected.filter((p) => !actual.includes(p));
  const extra = actual.filter((p) => !expected.includes(p));
  if (missing.length > 0) problems.push(`${relative(root, tsconfig)}: add references to ${missing.join(', ')} (runtime dependencies of ${name})`);
  if (extra.length > 0) problems.push(`${relative(root, tsconfig)}: remove references to ${extra.join(', ')} (not runtime dependencies of ${name})`);
}
if (problems.length > 0) {
  console.error(`tsconfig references do not match package dependencies:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`tsconfig references match package dependencies (${[...projects.values()].filter((d) => existsSync(join(d, 'tsconfig.json'))).length} projects).`);

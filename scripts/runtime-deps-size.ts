/**
 * `npm run image:size`: the Lambda image's node_modules without Docker. Reproduces the runtime stage's
 * install (the Dockerfile's own `RUN npm ci ...` of its last stage, run as is by sh) in a temp folder with
 * package.json, package-lock.json and .npmrc, then lists what it holds with sizes (du), largest first.
 *
 * Usage: node scripts/runtime-deps-size.ts [--keep]   (--keep leaves the folder for inspection)
 */
import { execFileSync } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** The last stage's RUN that calls npm ci, continuation lines joined. */
export function runtimeInstall(dockerfile: string): string {
  const joined = dockerfile.replace(/\\\n/g, ' ');
  const stages = joined.split(/^FROM\s/m);
  const last = stages.at(-1) ?? '';
  const run = last
    .split('\n')
    .map((line) => line.trim())
    .find((line) => /^RUN\s.*\bnpm ci\b/.test(line));
  if (!run) throw new Error('the Dockerfile runtime stage has no RUN npm ci');
  return run.replace(/^RUN\s+/, '').replace(/\s+/g, ' ');
}

function kib(path: string): number {
  return Number(execFileSync('du', ['-s', '--block-size=1K', path], { encoding: 'utf8' }).split('\t')[0]);
}

async function main(): Promise<void> {
  const command = runtimeInstall(await readFile(join(ROOT, 'Dockerfile'), 'utf8'));
  const dir = await mkdtemp(join(tmpdir(), 'runtime-deps-'));
  try {
    for (const file of ['package.json', 'package-lock.json', '.npmrc'])
      await copyFile(join(ROOT, file), join(dir, file));
    process.stderr.write(`in ${dir}: ${command}\n`);
    execFileSync('sh', ['-c', command], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    const modules = join(dir, 'node_modules');
    const entries: { name: string; kib: number }[] = [];
    for (const name of await readdir(modules)) {
      if (name.startsWith('.')) continue;
      if (name.startsWith('@')) {
        for (const inner of await readdir(join(modules, name)))
          entries.push({ name: `${name}/${inner}`, kib: kib(join(modules, name, inner)) });
      } else entries.push({ name, kib: kib(join(modules, name)) });
    }
    entries.sort((a, b) => b.kib - a.kib);
    const total = kib(modules);
    console.log(
      JSON.stringify(
        {
          command,
          totalMiB: Math.round((total / 1024) * 10) / 10,
          packages: entries.map((e) => ({ name: e.name, MiB: Math.round((e.kib / 1024) * 100) / 100 })),
        },
        null,
        2,
      ),
    );
  } finally {
    if (!process.argv.includes('--keep')) await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await main();

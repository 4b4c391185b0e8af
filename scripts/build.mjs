// npm run build: the compiled package in dist/.
//
// - dist/cli.js (the `xenvm-emu` bin) and dist/index.js (the library, `import ... from 'xenvm-emu'`),
//   bundled by esbuild with code splitting: each command and each optional part (oracle, gdb,
//   trace views) is a chunk loaded by dynamic import only when used. Measured on 2026-12-03, a
//   whole `run` of the hello firmware as a process, min / median of 15-20 runs: this bundle
//   100-104 / 103 ms, tsc's one-file-per-module output of the same sources 120-135 / 124 ms,
//   `node -e 0` 51-55 ms. Minifying the bundle changed nothing measurable, so dist/ stays
//   readable. `npm run bench` prints the bundle's figure.
// - dist/types/: the .d.ts files from tsc (tsconfig.build.json), their imports rewritten to .js.
//
// koffi stays external (a native addon). The plain-ESM helpers the sources share with the set-up
// (scripts/native.mjs, engine.mjs, debian-fetch.mjs) stay files of their own, imported from the
// package's scripts/, because they find native/ and .cache/ relative to themselves.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const quiet = process.argv.includes('--quiet');

rmSync(dist, { recursive: true, force: true });

const { build } = await import('esbuild');
await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli/main.ts', index: 'src/api/index.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['koffi'],
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
  plugins: [
    {
      name: 'scripts-stay-files',
      setup(b) {
        // Every output file is directly in dist/, so the package's scripts are one level up.
        b.onResolve({ filter: /(^|\/)scripts\/[^/]+\.mjs$/ }, (a) => ({ path: `../scripts/${a.path.split('/').pop()}`, external: true }));
      },
    },
  ],
});

const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });

// tsc keeps the sources' '.ts' import specifiers in declarations; consumers resolve '.js' to '.d.ts'.
const types = join(dist, 'types');
for (const f of walk(types)) {
  if (!f.endsWith('.d.ts')) continue;
  const s = readFileSync(f, 'utf8');
  const t = s.replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]*?)\.ts\2/g, '$1$2$3.js$2');
  if (t !== s) writeFileSync(f, t);
}

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}

if (!quiet) console.log('built dist/cli.js, dist/index.js and dist/types/');

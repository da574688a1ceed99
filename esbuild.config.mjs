// Bundles each Lambda entry point in functions/ into dist/<name>/index.mjs.
// `npm run build` and `sam build` (BuildMethod: makefile) both run this file, so they ship the same bytes.
import { build } from 'esbuild';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
const outRoot = process.env.ECS_PEERS_OUTDIR ?? path.join(root, 'dist');

/** Lambda functions to bundle: output folder name -> entry point. */
const functions = { reconcile: 'functions/reconcile.ts' };

await rm(outRoot, { recursive: true, force: true });
for (const [name, entry] of Object.entries(functions)) {
  const outdir = path.join(outRoot, name);
  await mkdir(outdir, { recursive: true });
  const result = await build({
    entryPoints: [path.join(root, entry)],
    outfile: path.join(outdir, 'index.mjs'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    legalComments: 'none',
    metafile: true,
    mainFields: ['module', 'main'],
    // Some CommonJS dependencies call require() on Node built-ins; give the ESM bundle a require.
    banner: {
      js: "import { createRequire as __ecsPeersCreateRequire } from 'node:module'; const require = __ecsPeersCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  await writeFile(path.join(outRoot, `${name}.meta.json`), JSON.stringify(result.metafile));
}

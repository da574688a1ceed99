// Bundles each Lambda entry point in functions/ into dist/<name>/index.mjs.
// `npm run build` and `sam build` (BuildMethod: makefile) both run this file, so they ship the same bytes.
import { build } from 'esbuild';
import { BUNDLE_OPTIONS } from './esbuild.options.mjs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
const outRoot = process.env.ECS_PEERS_OUTDIR ?? path.join(root, 'dist');

/**
 * Bundles: output folder name -> entry point, and whether it is a Lambda function. A function takes its role's
 * credentials from the environment only (lib/lambdaCredentials.ts stands in for the SDK's default chain);
 * reconcile-cli is the same handler for the CLI (scripts/cli.ts), which needs the full chain (profiles, SSO).
 */
const bundles = {
  reconcile: { entry: 'functions/reconcile.ts', lambda: true },
  'reconcile-cli': { entry: 'functions/reconcile.ts', lambda: false },
};
const lambdaOnly = { '@aws-sdk/credential-provider-node': path.join(root, 'lib/lambdaCredentials.ts') };

await rm(outRoot, { recursive: true, force: true });
for (const [name, { entry, lambda }] of Object.entries(bundles)) {
  const outdir = path.join(outRoot, name);
  await mkdir(outdir, { recursive: true });
  const result = await build({
    entryPoints: [path.join(root, entry)],
    outfile: path.join(outdir, 'index.mjs'),
    ...BUNDLE_OPTIONS,
    metafile: true,
    ...(lambda ? { alias: lambdaOnly } : {}),
    // Some CommonJS dependencies call require() on Node built-ins; give the ESM bundle a require.
    banner: {
      js: "import { createRequire as __ecsPeersCreateRequire } from 'node:module'; const require = __ecsPeersCreateRequire(import.meta.url);",
    },
  });
  await writeFile(path.join(outRoot, `${name}.meta.json`), JSON.stringify(result.metafile));
}

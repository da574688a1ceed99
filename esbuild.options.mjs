// The esbuild settings every ecs-peers bundle shares: the Lambda build (esbuild.config.mjs) and the minimum bundle
// that `npm run bench` measures it against, so the two differ only in what they bundle.
export const BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  legalComments: 'none',
  mainFields: ['module', 'main'],
  logLevel: 'warning',
};

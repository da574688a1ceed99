import type { BuildOptions } from 'esbuild';

/** The esbuild settings every ecs-peers bundle shares (esbuild.options.mjs). */
export declare const BUNDLE_OPTIONS: BuildOptions;

import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundle (an esbuild alias, esbuild.config.mjs).
 * Lambda hands a function its role's credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN), so the SDK's default chain (SSO, STS web identity, ini files, process, IMDS, and the STS
 * and SSO clients they bring) is code the function never runs. The CLI, which needs profiles, is built without
 * the alias.
 *
 * @param init - the SDK's provider options (logger)
 */
export const defaultProvider = (init: Parameters<typeof fromEnv>[0] = {}) => fromEnv(init);

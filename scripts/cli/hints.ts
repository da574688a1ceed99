/**
 * Turns the AWS SDK's errors about a missing Region or credentials into the fix, for `cli run`.
 */

const REGION_FIX =
  'no AWS Region: set AWS_REGION (e.g. export AWS_REGION=eu-west-1), or use an AWS_PROFILE whose ' +
  '~/.aws/config section has a region';
const CREDENTIALS_FIX =
  'no AWS credentials: set AWS_PROFILE to a profile of ~/.aws/config (after `aws configure` or ' +
  '`aws sso login --profile NAME`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
const EXPIRED_FIX = 'your AWS credentials expired: renew them (aws sso login, or new keys) and run again';
const INVALID_FIX = 'AWS does not know these credentials: check AWS_PROFILE, or AWS_ACCESS_KEY_ID and its secret';
const DENIED_FIX =
  'AWS denied a call: the credentials need tag:GetResources, ecs:DescribeTasks and ssm:GetParameter ' +
  '(plus ssm:PutParameter with --write)';

/** The texts of an error and of its causes. */
const messages = (error: unknown): string[] => {
  const seen: string[] = [];
  for (let current = error, depth = 0; current instanceof Error && depth < 10; depth += 1) {
    seen.push(`${current.name}: ${current.message}`);
    current = current.cause;
  }
  return seen;
};

/**
 * The fix for an error of `cli run`, or undefined when there is no known one.
 *
 * @param error - what the handler threw
 */
export const hintFor = (error: unknown): string | undefined => {
  const text = messages(error).join('\n');
  const profile = process.env.AWS_PROFILE;
  if (/Region is missing/i.test(text)) {
    return profile ? `${REGION_FIX} (AWS_PROFILE=${profile}: is it in ~/.aws/config, with a region?)` : REGION_FIX;
  }
  if (/CredentialsProviderError|Could not load credentials|could not be found or parsed/i.test(text)) {
    return profile ? `${CREDENTIALS_FIX} (AWS_PROFILE=${profile} gave none)` : CREDENTIALS_FIX;
  }
  if (/ExpiredToken|token (has )?expired/i.test(text)) return EXPIRED_FIX;
  if (/InvalidClientTokenId|UnrecognizedClient|security token included in the request is invalid/i.test(text)) {
    return INVALID_FIX;
  }
  if (/AccessDenied|not authorized/i.test(text)) return DENIED_FIX;
  return undefined;
};

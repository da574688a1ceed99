/** The fixes `cli run` names for AWS errors (scripts/cli/hints.ts). */
import { hintFor } from '../../../scripts/cli/hints.js';

const wrapped = (name: string, message: string): Error =>
  new Error('ssm:GetParameter on /x failed', { cause: Object.assign(new Error(message), { name }) });

describe('hintFor', () => {
  it('finds the cause through the wrapping error', () => {
    expect(hintFor(wrapped('Error', 'Region is missing'))).toMatch(/^no AWS Region: set AWS_REGION/);
  });

  it.each([
    ['CredentialsProviderError', 'Could not load credentials from any providers', /^no AWS credentials/],
    ['ExpiredTokenException', 'The security token included in the request is expired', /expired: renew/],
    ['UnrecognizedClientException', 'The security token included in the request is invalid', /does not know/],
    ['AccessDeniedException', 'User is not authorized to perform ssm:GetParameter', /tag:GetResources/],
  ])('%s gets its fix', (name, message, fix) => {
    expect(hintFor(wrapped(name, message))).toMatch(fix);
  });

  it('an error it does not know gets no hint', () => {
    expect(hintFor(wrapped('ThrottlingException', 'Rate exceeded'))).toBeUndefined();
  });
});

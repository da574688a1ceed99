import type * as z from 'zod/mini';
import { InvalidResponseError } from './errors.js';

/**
 * Checks an AWS answer for the fields the run relies on, at the edge beside the call. The SDK turns an empty
 * or `{}` body of a 200 answer into an output with no fields and passes wrong types through, so an answer that
 * lacks a field must fail here rather than read as "nothing there".
 *
 * @param schema - what the run relies on (extra fields are allowed)
 * @param answer - the SDK output
 * @param what - the answer, for the message, e.g. `page 3`
 * @returns the answer, unchanged
 * @throws InvalidResponseError naming the first field that is missing or wrong
 */
export const checkAnswer = <T>(schema: z.ZodMiniType, answer: T, what: string): T => {
  const result = schema.safeParse(answer);
  if (result.success) return answer;
  const [issue] = result.error.issues;
  const field = issue?.path.length ? issue.path.join('.') : 'the answer';
  throw new InvalidResponseError(`invalid answer (${what}): ${field}: ${issue?.message ?? 'unexpected shape'}`);
};

import type { ParameterTier } from '@aws-sdk/client-ssm';
import { SSM_ADVANCED_MAX_CHARS, SSM_STANDARD_MAX_CHARS } from '../constants.js';
import { PeerSetTooLargeError } from '../errors.js';

/**
 * The SSM tier a value needs. Values that fit Standard use Intelligent-Tiering, which keeps a parameter
 * Standard and also accepts a parameter that earlier went Advanced (Advanced can never go back).
 *
 * @param value - the parameter value to write
 * @throws PeerSetTooLargeError when the value is over the Advanced limit
 */
export const tierFor = (value: string): ParameterTier => {
  if (value.length > SSM_ADVANCED_MAX_CHARS) throw new PeerSetTooLargeError(value.length, SSM_ADVANCED_MAX_CHARS);
  return value.length > SSM_STANDARD_MAX_CHARS ? 'Advanced' : 'Intelligent-Tiering';
};

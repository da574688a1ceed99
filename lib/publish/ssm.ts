import {
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  type ParameterTier,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { countedCall, type ApiCalls } from '../apiCalls.js';
import { PublishError } from '../errors.js';

/** A parameter's value as SSM holds it now. */
export interface StoredValue {
  value: string;
  version: number;
}

/**
 * Reads the parameter.
 *
 * @param client - SSM client
 * @param name - parameter name
 * @param calls - the run's API call counters
 * @returns the value and version, or undefined when the parameter does not exist yet
 * @throws PublishError when the read fails
 */
export const readParameter = async (
  client: SSMClient,
  name: string,
  calls: ApiCalls,
): Promise<StoredValue | undefined> => {
  try {
    const { Parameter } = await countedCall(calls, 'ssm:GetParameter', () =>
      client.send(new GetParameterCommand({ Name: name })),
    );
    return { value: Parameter?.Value ?? '', version: Parameter?.Version ?? 0 };
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    throw new PublishError('ssm:GetParameter', name, { cause: error });
  }
};

/**
 * Overwrites the parameter with a new value, in the tier the value needs.
 *
 * @param client - SSM client
 * @param name - parameter name
 * @param value - the new value
 * @param tier - the tier the value needs (`tierFor`)
 * @param calls - the run's API call counters
 * @returns the parameter's new version
 * @throws PublishError when the write fails
 */
export const writeParameter = async (
  client: SSMClient,
  name: string,
  value: string,
  tier: ParameterTier,
  calls: ApiCalls,
): Promise<number> => {
  try {
    const { Version } = await countedCall(calls, 'ssm:PutParameter', () =>
      client.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Tier: tier, Overwrite: true })),
    );
    return Version ?? 0;
  } catch (error) {
    throw new PublishError('ssm:PutParameter', name, { cause: error });
  }
};

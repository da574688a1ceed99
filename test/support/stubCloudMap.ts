/**
 * An aws-sdk-client-mock stub of one Cloud Map service that answers like AWS: ListInstances in pages of at most
 * 100 behind tokens, RegisterInstance creating or replacing by id, DeregisterInstance removing (InstanceNotFound
 * for an unknown id). It keeps the order of the write calls, so tests can check make before break.
 */
import {
  DeregisterInstanceCommand,
  InstanceNotFound,
  ListInstancesCommand,
  RegisterInstanceCommand,
  ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import { mockClient } from 'aws-sdk-client-mock';

export const SERVICE_ID = 'srv-shop0000000001';
export const serviceDiscovery = mockClient(ServiceDiscoveryClient);

/** The stubbed service: instance id -> attributes, and the write calls in the order they came. */
export interface StubService {
  instances: Map<string, Record<string, string>>;
  writes: string[];
}

/**
 * Serves one service holding `initial` instances.
 *
 * @param initial - instance id -> attributes
 * @param pageSize - the most instances one ListInstances page holds (AWS: 100)
 */
export const serveService = (initial: Record<string, Record<string, string>> = {}, pageSize = 100): StubService => {
  const service: StubService = { instances: new Map(Object.entries(initial)), writes: [] };
  serviceDiscovery.reset();
  serviceDiscovery.on(ListInstancesCommand).callsFake(async (input: { MaxResults?: number; NextToken?: string }) => {
    const size = Math.min(pageSize, input.MaxResults ?? 100);
    const offset = Number(input.NextToken ?? '0');
    const all = [...service.instances].map(([Id, Attributes]) => ({ Id, Attributes }));
    const next = offset + size < all.length ? String(offset + size) : undefined;
    return { Instances: all.slice(offset, offset + size), ...(next ? { NextToken: next } : {}) };
  });
  serviceDiscovery
    .on(RegisterInstanceCommand)
    .callsFake(async (input: { InstanceId: string; Attributes: Record<string, string> }) => {
      service.writes.push(`register ${input.InstanceId}`);
      service.instances.set(input.InstanceId, { ...input.Attributes });
      return { OperationId: `op-register-${input.InstanceId}` };
    });
  serviceDiscovery.on(DeregisterInstanceCommand).callsFake(async (input: { InstanceId: string }) => {
    service.writes.push(`deregister ${input.InstanceId}`);
    if (!service.instances.delete(input.InstanceId)) {
      throw new InstanceNotFound({ message: `instance ${input.InstanceId} not found`, $metadata: {} });
    }
    return { OperationId: `op-deregister-${input.InstanceId}` };
  });
  return service;
};

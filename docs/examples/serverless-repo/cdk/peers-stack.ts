/**
 * An AWS CDK stack that deploys ecs-peers from the Serverless Application Repository as a nested application
 * and gives the app's ECS task role the policy to read the peer set.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { ManagedPolicy, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnApplication } from 'aws-cdk-lib/aws-sam';
import type { Construct } from 'constructs';

/** The application `sam publish` created, and the version to deploy. */
export const ECS_PEERS = {
  applicationId: 'arn:aws:serverlessrepo:us-east-1:123456789012:applications/ecs-peers',
  semanticVersion: '0.1.0',
};

export class ShopPeersStack extends Stack {
  /** The role for the app's task definition (`taskRole`). */
  readonly taskRole: Role;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    // Adds the AWS::Serverless-2016-10-31 transform to this stack; cdk deploy passes CAPABILITY_AUTO_EXPAND.
    const peers = new CfnApplication(this, 'EcsPeers', {
      location: ECS_PEERS,
      parameters: {
        ClusterName: 'shop-prod',
        TaskTags: JSON.stringify({ app: 'shop', env: 'prod' }),
        NodeBasename: 'shop',
        PeersParameterName: '/ecs-peers/shop',
      },
    });

    this.taskRole = new Role(this, 'TaskRole', {
      assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com'),
      managedPolicies: [
        ManagedPolicy.fromManagedPolicyArn(
          this,
          'PeersReaderPolicy',
          peers.getAtt('Outputs.PeersReaderPolicyArn').toString(),
        ),
      ],
    });

    new CfnOutput(this, 'PeersParameterName', { value: peers.getAtt('Outputs.PeersParameterName').toString() });
  }
}

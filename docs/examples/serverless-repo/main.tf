# Terraform: ecs-peers from the Serverless Application Repository.
# The stack is named serverlessrepo-<name>: keep name under 40 characters (the function is <stack>-reconcile).

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
}

resource "aws_serverlessapplicationrepository_cloudformation_stack" "ecs_peers" {
  name             = "shop-peers"
  application_id   = "arn:aws:serverlessrepo:us-east-1:123456789012:applications/ecs-peers"
  semantic_version = "0.1.0"
  capabilities     = ["CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY"]

  parameters = {
    ClusterName        = "shop-prod"
    TaskTags           = "{\"app\":\"shop\",\"env\":\"prod\"}"
    NodeBasename       = "shop"
    PeersParameterName = "/ecs-peers/shop"
  }
}

# Attach this to the app's ECS task role (aws_iam_role_policy_attachment).
output "peers_reader_policy_arn" {
  value = aws_serverlessapplicationrepository_cloudformation_stack.ecs_peers.outputs["PeersReaderPolicyArn"]
}

output "peers_parameter_name" {
  value = aws_serverlessapplicationrepository_cloudformation_stack.ecs_peers.outputs["PeersParameterName"]
}

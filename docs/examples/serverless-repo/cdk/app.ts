/** The CDK app (cdk.json: { "app": "npx tsx app.ts" }); `cdk deploy shop-peers` deploys it. */
import { App } from 'aws-cdk-lib';
import { ShopPeersStack } from './peers-stack.js';

export const app = new App();
new ShopPeersStack(app, 'shop-peers', { env: { region: 'eu-west-1' } });

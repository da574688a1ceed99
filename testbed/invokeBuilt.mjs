#!/usr/bin/env node
// Invokes a built handler bundle once, the way Lambda does: a fresh Node.js process whose environment is the
// function's configuration, the bundle imported (cold start: configuration validated, clients created), then
// handler(event, context) awaited.
//
//   node testbed/invokeBuilt.mjs dist/reconcile/index.mjs '{"dryRun":true}' [TIMEOUT_MS]
//   node testbed/invokeBuilt.mjs dist/reconcile/index.mjs @event.json
//
// TIMEOUT_MS is the function's timeout, what context.getRemainingTimeInMillis() counts down from (default 30000,
// the template's Timeout). After the answer the process lives on while the handler's work does, as an execution
// environment does until its next invocation.
//
// LATER_MS (optional, after TIMEOUT_MS) moves the deadline earlier once the remaining time has been read once:
// the handler reads it first (the run's budget), middy right after (its early timeout), so middy's timeout fires
// before the run's own budget would, the way to show that middy's abort signal reaches the run.
//
// The handler's own log lines go to stdout as usual; the last line is `RESULT <json>` (the handler's return
// value) or `FAILED <json>` (the error's name and message), and the exit code is 0 or 1.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [bundle, eventArgument = '{}', timeoutArgument = '30000', laterArgument] = process.argv.slice(2);
const timeoutMs = Number(timeoutArgument);
if (!bundle || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
  console.error("usage: node testbed/invokeBuilt.mjs BUNDLE.mjs ['EVENT JSON' | @EVENT_FILE] [TIMEOUT_MS]");
  process.exit(2);
}
const eventJson = eventArgument.startsWith('@') ? readFileSync(eventArgument.slice(1), 'utf8') : eventArgument;

const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'reconcile';
let deadline = Date.now() + timeoutMs;
const laterMs = laterArgument === undefined ? undefined : Number(laterArgument);
let readings = 0;
const remaining = () => {
  readings += 1;
  const left = Math.max(0, deadline - Date.now());
  if (readings === 1 && laterMs !== undefined) deadline = Math.min(deadline, Date.now() + laterMs);
  return left;
};
const context = {
  awsRequestId: randomUUID(),
  functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION ?? 'us-east-1'}:123456789012:function:${functionName}`,
  memoryLimitInMB: '256',
  logGroupName: `/aws/lambda/${functionName}`,
  logStreamName: 'local',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: remaining,
  done: () => {},
  fail: () => {},
  succeed: () => {},
};

try {
  const module = await import(pathToFileURL(path.resolve(bundle)).href);
  const result = await module.handler(JSON.parse(eventJson), context);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
} catch (error) {
  const failure =
    error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };
  // The AWS error behind a reconciler error: its HTTP status and, when the SDK could not parse it, the raw body.
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause && typeof cause === 'object') {
    const status = cause.$metadata?.httpStatusCode ?? cause.$response?.statusCode;
    failure.cause = { name: cause.name, ...(status ? { httpStatusCode: status } : {}) };
    const body = [cause.$responseBodyText, cause.$response?.body].find((text) => typeof text === 'string');
    if (body) failure.cause.body = body.slice(0, 2000);
  }
  process.stdout.write(`FAILED ${JSON.stringify(failure)}\n`);
  process.exitCode = 1;
}

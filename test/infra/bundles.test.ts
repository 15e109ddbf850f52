import { readFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EventBridgeEvent, ScheduledEvent, SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '#sandbox/index';
import { lambdaContext } from '#sandbox/lambda-context';
import { drainQueue, listMembersStatus, loadEvent, sqsEvent, startServiceSandbox } from '../support/service-sandbox';
import { FUNCTION_NAMES, PACKAGE_PARAMS, packageService, type FunctionName, type PackagedService } from './support/packaged-service';
import { readZip } from './support/zip';

/**
 * The Lambda artifacts `osls package` builds: one small minified ES module per function, with
 * its source map, everything bundled (the pinned AWS SDK included: the runtime's own copy makes
 * module initialisation several times longer, docs/benchmarks.md), and each bundle working: imported
 * from its unzipped artifact and invoked against the sandbox, as Lambda would.
 */

// The cold-start budget: every function carries four AWS clients (Macie, DynamoDB, SQS, STS) and,
// since each reconcile reads the organization, the Organizations client (about 414 KB in all).
const MAX_BUNDLE_BYTES = 440 * 1024;
const REGIONS = PACKAGE_PARAMS.managedRegions!.split(',');

let service: PackagedService;
let sandbox: Sandbox;

const bundlePath = (name: FunctionName) => `functions/${name}/handler.mjs`;

beforeAll(async () => {
  [service, sandbox] = await Promise.all([
    packageService(),
    startServiceSandbox({
      regions: REGIONS,
      accounts: [
        { accountId: '222222223001', email: 'bundle-reconcile@example.com' },
        { accountId: '222222223002', email: 'bundle-onboard@example.com' },
        { accountId: '222222223003', email: 'bundle-requests@example.com' },
      ],
    }),
  ]);
}, 180_000);

afterAll(() => sandbox?.close());

describe('function artifacts', () => {
  it.each(FUNCTION_NAMES)('%s holds just its bundle and source map', async (name) => {
    const files = readZip(await readFile(service.artifact(name)));
    expect([...files.keys()].sort()).toEqual([bundlePath(name), `${bundlePath(name)}.map`]);
  });

  it.each(FUNCTION_NAMES)('%s is a minified ES module under 440 KB that links its source map', async (name) => {
    const bundle = readZip(await readFile(service.artifact(name))).get(bundlePath(name))!;
    expect(bundle.length).toBeLessThan(MAX_BUNDLE_BYTES);
    const code = bundle.toString('utf8');
    expect(code).toMatch(/export\s*\{[^}]*\bas handler\b/);
    expect(code.trimEnd().endsWith('//# sourceMappingURL=handler.mjs.map')).toBe(true);
    // Minified: long lines (a newline survives only inside template literals).
    expect(code.length / code.split('\n').length).toBeGreaterThan(1_000);
  });

  it.each(FUNCTION_NAMES)('%s bundles everything, the AWS SDK included: it imports Node built-ins only', async (name) => {
    const code = readZip(await readFile(service.artifact(name))).get(bundlePath(name))!.toString('utf8');
    const imports = [...code.matchAll(/(?:^|[;\s}])import\s*(?:[\w$*{}\s,]+from\s*)?["']([^"']+)["']/g)].map((match) => match[1]!);
    const dynamicImports = [...code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((match) => match[1]!);
    expect(imports.length).toBeGreaterThan(0);
    expect([...new Set([...imports, ...dynamicImports])].filter((specifier) => !isBuiltin(specifier))).toEqual([]);
    // Nothing loads a package at run time that the bundle did not include: esbuild emits this
    // helper only when bundled CommonJS code calls require() on something it could not bundle.
    expect(code).not.toContain('Dynamic require of');
  });

  it.each(FUNCTION_NAMES)('%s takes its credentials from the environment only, as Lambda provides them', async (name) => {
    const code = readZip(await readFile(service.artifact(name))).get(bundlePath(name))!.toString('utf8');
    // infra/lambda-credentials.mjs stands in for the default chain (SSO, INI files, IMDS...).
    expect(code).toContain('Unable to find environment variable credentials');
    expect(code).not.toContain('Could not load credentials from any providers');
  });

  it.each(FUNCTION_NAMES)('%s carries the Organizations client: every function reconciles, and reconciling reads the organization', async (name) => {
    const code = readZip(await readFile(service.artifact(name))).get(bundlePath(name))!.toString('utf8');
    expect(code).toContain('com.amazonaws.organizations');
  });

  it.each(FUNCTION_NAMES)("%s carries no CloudFormation client (the CLI's --stack is the only reader of stacks)", async (name) => {
    const bundle = readZip(await readFile(service.artifact(name)));
    expect(bundle.get(bundlePath(name))!.toString('utf8')).not.toContain('com.amazonaws.cloudformation');
    const map = JSON.parse(bundle.get(`${bundlePath(name)}.map`)!.toString('utf8')) as { sources: string[] };
    expect(map.sources.filter((source) => source.includes('/client-cloudformation/') || /(^|\/)cli\/[\w-]+\.ts$/.test(source))).toEqual([]);
  });

  it.each(FUNCTION_NAMES)('%s maps back to the TypeScript sources', async (name) => {
    const map = JSON.parse(readZip(await readFile(service.artifact(name))).get(`${bundlePath(name)}.map`)!.toString('utf8')) as {
      sources: string[];
      sourcesContent?: unknown;
    };
    expect(map.sources.some((source) => source.endsWith(`functions/${name}/handler.ts`))).toBe(true);
    expect(map.sources.some((source) => source.endsWith('shared/reconciler.ts'))).toBe(true);
    expect(map.sourcesContent).toBeUndefined();
  });
});

describe('bundled handlers, as Lambda runs them', () => {
  const loadBundled = async <T>(name: FunctionName) =>
    (await import(pathToFileURL(join(service.bundleDirectory(name), bundlePath(name))).href)) as { handler: T };

  it('reconcile enrolls a desired account', async () => {
    const { handler } = await loadBundled<(event: ScheduledEvent, context: unknown) => Promise<{ byAction: Record<string, { succeeded: number }> }>>('reconcile');
    const { getLambdaRuntime } = await import('#shared/lambda/runtime');
    await getLambdaRuntime().store.recordDesired({
      accountId: '222222223001',
      email: 'bundle-reconcile@example.com',
      desiredState: 'member',
      tags: {},
      autoAccept: true,
      paused: false,
      requestedBy: 'test',
      requestedAt: new Date().toISOString(),
    });
    const summary = await handler(await loadEvent<ScheduledEvent>('schedule.json'), lambdaContext('reconcile'));
    expect(summary.byAction.accept?.succeeded).toBe(REGIONS.length);
    for (const region of REGIONS) expect((await listMembersStatus(sandbox, region)).get('222222223001')).toBe('Enabled');
  });

  it('onboard enrolls the account of an Organizations event', async () => {
    const { handler } = await loadBundled<(event: EventBridgeEvent<string, unknown>, context: unknown) => Promise<unknown>>('onboard');
    const event = await loadEvent<EventBridgeEvent<string, { serviceEventDetails: { createAccountStatus: { accountId: string } } }>>(
      'organizations-create-account-result.json',
    );
    event.detail.serviceEventDetails.createAccountStatus.accountId = '222222223002';
    expect(await handler(event, lambdaContext('onboard'))).toMatchObject({ outcome: 'reconciled', accountId: '222222223002' });
  });

  it('requests enrolls a queued account and reports no batch item failure', async () => {
    const { handler } = await loadBundled<(event: unknown, context: unknown) => Promise<SQSBatchResponse>>('requests');
    const body = JSON.stringify({ action: 'enroll', accountId: '222222223003', email: 'bundle-requests@example.com' });
    expect(await handler(sqsEvent([body]), lambdaContext('requests'))).toEqual({ batchItemFailures: [] });
    for (const region of REGIONS) expect((await listMembersStatus(sandbox, region)).get('222222223003')).toBe('Enabled');
  });

  it('worker dead-letters a unit it cannot read and reports no batch item failure', async () => {
    // Read when the bundle builds its runtime, on its first invocation, as Lambda's environment is.
    process.env.WORK_QUEUE_URL = sandbox.workQueueUrl;
    const { handler } = await loadBundled<(event: unknown, context: unknown) => Promise<SQSBatchResponse>>('worker');
    const event = sqsEvent([JSON.stringify({ version: 1, runId: 'bundle', region: 'us-east-1' })], 'arn:aws:sqs:us-east-1:111111111111:macie-membership-work.fifo');
    expect(await handler(event, lambdaContext('worker'))).toEqual({ batchItemFailures: [] });
    const letters = await drainQueue(sandbox, sandbox.deadLetterQueueUrl);
    expect(letters).toEqual([expect.objectContaining({ reason: 'invalid-work-unit', operation: 'validate' })]);
  });
});

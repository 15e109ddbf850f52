import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigurationError, parseTelemetryConfig } from '#shared/config';
import { createMetrics, logger } from '#shared/powertools';

/** What reaches the function's log stream, through the real Powertools logger. */
function captureLog(write: () => void): string {
  const lines: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  };
  // Lambda's console writes warnings and errors to stderr, the rest to stdout.
  const streams = [vi.spyOn(process.stdout, 'write').mockImplementation(capture), vi.spyOn(process.stderr, 'write').mockImplementation(capture)];
  try {
    write();
  } finally {
    for (const stream of streams) stream.mockRestore();
  }
  return lines.join('');
}

afterEach(() => vi.restoreAllMocks());

describe('the shared logger', () => {
  it('masks emails in the message, in nested attributes, in keys and in errors', () => {
    const line = captureLog(() =>
      logger.warn('Invalid request from carol@corp.example dead-lettered', {
        issues: [{ field: 'tags["dave@corp.example"]', message: 'tags["dave@corp.example"] must be a string' }],
        byEmail: { 'erin@corp.example': 1 },
        source: 'frank@corp.example',
        error: new Error('AccessDenied for grace@corp.example'),
      }),
    );
    expect(line).not.toBe('');
    for (const local of ['carol', 'dave', 'erin', 'frank', 'grace']) expect(line).not.toContain(`${local}@`);
    expect(line).toContain('c***@corp.example');
    expect(line).toContain('d***@corp.example');
    expect(line).toContain('e***@corp.example');
    expect(line).toContain('g***@corp.example');
  });

  it('leaves text without an address as it is', () => {
    const line = captureLog(() => logger.warn('Reconciliation run finished', { accountId: '222222222201', region: 'us-east-1' }));
    expect(JSON.parse(line)).toMatchObject({ message: 'Reconciliation run finished', accountId: '222222222201', region: 'us-east-1' });
  });
});

/** The CloudWatch embedded-metric-format documents a run's metrics are published as. */
function captureMetrics(environment: Record<string, string | undefined>): Array<Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> } }> {
  const metrics = createMetrics(parseTelemetryConfig(environment));
  metrics.addMetric('FailuresNew', MetricUnit.Count, 2);
  const output = captureLog(() => metrics.publishStoredMetrics());
  return output
    .split('\n')
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line));
}

describe('the shared metrics', () => {
  it("files a Lambda function's metrics under the namespace and dimensions service and function", () => {
    const [document] = captureMetrics({ AWS_LAMBDA_FUNCTION_NAME: 'macie-membership-reconciler-prod-reconcile' });
    expect(document).toMatchObject({ service: 'macie-membership-reconciler', function: 'macie-membership-reconciler-prod-reconcile', FailuresNew: 2 });
    expect(document!._aws.CloudWatchMetrics).toEqual([
      expect.objectContaining({ Namespace: 'MacieMembershipReconciler', Dimensions: [['service', 'function']] }),
    ]);
  });

  it('takes the namespace from POWERTOOLS_METRICS_NAMESPACE', () => {
    const [document] = captureMetrics({ POWERTOOLS_METRICS_NAMESPACE: 'Security/Macie', AWS_LAMBDA_FUNCTION_NAME: 'onboard' });
    expect(document!._aws.CloudWatchMetrics[0]!.Namespace).toBe('Security/Macie');
  });

  it('has no function dimension outside Lambda', () => {
    const [document] = captureMetrics({});
    expect(document).not.toHaveProperty('function');
    expect(document!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service']]);
  });

  it('refuses a namespace CloudWatch would refuse, naming the variable', () => {
    expect(() => parseTelemetryConfig({ POWERTOOLS_METRICS_NAMESPACE: '' })).toThrow(ConfigurationError);
    expect(() => parseTelemetryConfig({ POWERTOOLS_METRICS_NAMESPACE: 'bad!' })).toThrow(/POWERTOOLS_METRICS_NAMESPACE must be a CloudWatch namespace/);
  });
});

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { getTelemetryConfig, type TelemetryConfig } from '#shared/config';
import { maskEmailsIn } from '#shared/domain/rules';

/**
 * One logger and one metrics emitter for every function, so all logs and metrics carry the same
 * service name and keys. The log level comes from Powertools' own `POWERTOOLS_LOG_LEVEL`; the
 * metrics namespace from Powertools' `POWERTOOLS_METRICS_NAMESPACE`, read by shared/config.ts.
 */
export const serviceName = 'macie-membership-reconciler';

/**
 * Emails are personal data, and they reach log lines by many roads (a validation issue's path, an
 * AWS error text, an event's own fields). Masking where the line is written covers every road,
 * keys included; masking field by field would miss the next one.
 */
export function maskEmailsInLog(_key: string, value: unknown): unknown {
  if (typeof value === 'string') return maskEmailsIn(value);
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Error) return value;
  const keys = Object.keys(value);
  if (!keys.some((key) => key.includes('@'))) return value;
  return Object.fromEntries(keys.map((key) => [maskEmailsIn(key), (value as Record<string, unknown>)[key]]));
}

export const logger = new Logger({ serviceName, jsonReplacerFn: maskEmailsInLog });

/**
 * Every metric carries the `service` dimension and, in Lambda, a `function` dimension (the
 * function's name), so the three functions' runs can be told apart and alarmed on one by one.
 */
export function createMetrics({ metricsNamespace, functionName }: TelemetryConfig): Metrics {
  return new Metrics({
    serviceName,
    namespace: metricsNamespace,
    ...(functionName === undefined ? {} : { functionName, defaultDimensions: { function: functionName } }),
  });
}

export const metrics = createMetrics(getTelemetryConfig());

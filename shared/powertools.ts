import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * One logger and one metrics emitter for every function, so all logs and metrics carry the same
 * service name and keys. Log level and namespace come from Powertools' own standard variables
 * (`POWERTOOLS_LOG_LEVEL`, `POWERTOOLS_METRICS_NAMESPACE`, ...).
 */
const serviceName = 'macie-membership-reconciler';

export const logger = new Logger({ serviceName });

export const metrics = new Metrics({ serviceName, namespace: 'MacieMembershipReconciler' });

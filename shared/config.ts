import * as z from 'zod/mini';
import { partitionOf } from '#shared/aws/partition';
import { MEMBERSHIP_MODES, type MembershipMode } from '#shared/domain/organization';

/**
 * The service's configuration, parsed from the environment once, validated and frozen.
 * Nothing else in the code base reads `process.env` (the AWS SDK reads its own standard
 * settings: credentials, `AWS_REGION`, `AWS_ENDPOINT_URL_*`).
 *
 * The schemas use zod's functional `zod/mini` API: it tree-shakes to the few checks used here,
 * where the chained API bundles all of zod (the Lambda cold-start budget, docs/benchmarks.md).
 * zod/mini loads no message locale, so every rule names its own message.
 */

const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
// Macie accepts up to 80 alphanumeric characters; spaces are the only separator it documents.
const INVITATION_MESSAGE = /^[A-Za-z0-9 ]{1,80}$/;

/** An optional setting: `fallback` when the variable is unset. */
const withDefault = <T, I>(schema: z.ZodMiniType<T, I>, fallback: T) =>
  z.pipe(z.optional(schema), z.transform((value: T | undefined) => value ?? fallback));

const FLAG_VALUES = ['true', 'false', '1', '0', 'yes', 'no'] as const;
type FlagValue = (typeof FLAG_VALUES)[number];
const isTrue = (value: FlagValue) => value === 'true' || value === '1' || value === 'yes';
const booleanFlag = (fallback: boolean) =>
  z.pipe(
    z.optional(z.enum(FLAG_VALUES, { error: 'must be true or false' })),
    z.transform((value: FlagValue | undefined) => (value === undefined ? fallback : isTrue(value))),
  );

const boundedInt = (fallback: number, min: number, max: number) =>
  withDefault(
    z.coerce
      .number({ error: 'must be a whole number' })
      .check(z.int('must be a whole number'), z.minimum(min, `must be at least ${min}`), z.maximum(max, `must be at most ${max}`)),
    fallback,
  );
const positiveInt = (fallback: number, max: number) => boundedInt(fallback, 1, max);
// Empty or unset: no accounts. Deployment templates pass an empty parameter for "none".
const accountList = z.pipe(
  z.pipe(
    z.optional(z.string({ error: 'must be a comma-separated list of account ids' })),
    z.transform((value: string | undefined) => [...new Set((value ?? '').split(',').map((id) => id.trim()).filter(Boolean))]),
  ),
  z.array(z.string().check(z.regex(ACCOUNT_ID, 'must be 12-digit account ids, comma-separated'))),
);
const nonNegativeInt = (fallback: number, max: number) => boundedInt(fallback, 0, max);

const environmentSchema = z.object({
  AWS_REGION: z.optional(z.string({ error: 'must be a string' }).check(z.regex(REGION, 'must be an AWS region name such as us-east-1'))),
  MACIE_ADMINISTRATOR_ACCOUNT_ID: z.string({ error: 'is required' }).check(z.regex(ACCOUNT_ID, 'must be exactly 12 digits')),
  MANAGED_REGIONS: z.pipe(
    z.pipe(
      z.string({ error: 'is required (comma-separated regions, e.g. us-east-1,eu-west-1)' }),
      z.transform((value: string) => [...new Set(value.split(',').map((region) => region.trim()).filter(Boolean))]),
    ),
    z
      .array(z.string().check(z.regex(REGION, 'must be AWS region names such as us-east-1')))
      .check(z.minLength(1, 'must name at least one region')),
  ),
  DESIRED_MEMBERS_TABLE: z.string({ error: 'is required' }).check(z.minLength(3, 'must be a DynamoDB table name')),
  DEAD_LETTER_QUEUE_URL: z.url({ error: 'is required and must be an SQS queue URL' }),
  REQUEST_QUEUE_URL: z.optional(z.url({ error: 'must be an SQS queue URL' })),
  // Set, the scheduled run fans out over this queue to the worker function; unset, it runs in one invocation.
  WORK_QUEUE_URL: z.optional(
    z.url({ error: 'must be an SQS queue URL' }).check(z.refine((url: string) => url.endsWith('.fifo'), 'must be the URL of an SQS FIFO queue (its name ends in .fifo)')),
  ),
  WORK_UNIT_SIZE: positiveInt(200, 1000),
  MEMBER_ROLE_NAME: withDefault(
    z.string({ error: 'must be a string' }).check(z.regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name')),
    'MacieMembershipAcceptor',
  ),
  MEMBER_ROLE_EXTERNAL_ID: z
    .string({ error: 'is required' })
    .check(z.regex(/^[\w+=,.@:/-]{2,1224}$/, 'must be 2-1224 characters of letters, digits and +=,.@:/-')),
  PRUNE_UNMANAGED: booleanFlag(false),
  // Deployment templates pass an empty parameter for "no message".
  INVITATION_MESSAGE: z.pipe(
    z.transform((value: unknown) => (value === '' ? undefined : value)),
    z.optional(z.string({ error: 'must be a string' }).check(z.regex(INVITATION_MESSAGE, 'must be 1-80 letters, digits or spaces'))),
  ),
  SEND_INVITATION_EMAIL: booleanFlag(false),
  INVITATION_BATCH_SIZE: positiveInt(50, 1000),
  ADMIN_CONCURRENCY: positiveInt(8, 100),
  MEMBER_CONCURRENCY: positiveInt(16, 200),
  AWS_MAX_ATTEMPTS: positiveInt(8, 20),
  ACCEPT_POLL_ATTEMPTS: positiveInt(3, 20),
  ACCEPT_POLL_INTERVAL_MS: nonNegativeInt(1_000, 60_000),
  // 0: the first invited accounts look at once; the run learns the delay from the ones that missed.
  ACCEPT_FIRST_LOOK_MS: nonNegativeInt(0, 60_000),
  DEADLINE_SAFETY_MS: nonNegativeInt(20_000, 600_000),
  // Longer than any run: a Lambda function runs 15 minutes at most.
  LEASE_SECONDS: positiveInt(900, 86_400),
  // A failure that goes on (a missing member role, another administrator) is dead-lettered once a day, not every run.
  DEAD_LETTER_QUIET_HOURS: nonNegativeInt(24, 24 * 30),
  ORGANIZATION_SYNC: booleanFlag(false),
  SYNC_INCLUDE_ACCOUNTS: accountList,
  SYNC_EXCLUDE_ACCOUNTS: accountList,
  MEMBERSHIP_MODE: withDefault(z.enum(MEMBERSHIP_MODES, { error: `must be one of ${MEMBERSHIP_MODES.join(', ')}` }), 'auto'),
  // Unset or empty (a deployment template's "no value"): Macie's setting is left as it is.
  ORGANIZATION_AUTO_ENABLE: z.pipe(
    z.transform((value: unknown) => (value === '' ? undefined : value)),
    z.optional(z.enum(FLAG_VALUES, { error: 'must be true or false, or empty to leave it alone' })),
  ),
  EVENT_SOURCE: withDefault(z.string({ error: 'must be a string' }).check(z.minLength(1, 'must not be empty')), 'macie-membership-reconciler'),
});

// What the functions' metrics are filed under. Read apart from the service configuration: the
// shared Powertools emitter is built when a module imports it, before (and without) the rest.
const telemetrySchema = z.object({
  // Powertools' own variable; this project passes it to Powertools explicitly, with its default.
  POWERTOOLS_METRICS_NAMESPACE: withDefault(
    z.string({ error: 'must be a string' }).check(z.regex(/^[\w.\-/#: ]{1,255}$/, 'must be a CloudWatch namespace (1-255 of letters, digits, spaces and .-_/#:)')),
    'MacieMembershipReconciler',
  ),
  // Lambda sets it; unset outside Lambda (tests, the CLI, the sandbox).
  AWS_LAMBDA_FUNCTION_NAME: z.optional(z.string({ error: 'must be a string' }).check(z.minLength(1, 'must not be empty'))),
});

/** Where metrics go: the CloudWatch namespace, and the Lambda function that emits them (none outside Lambda). */
export interface TelemetryConfig {
  metricsNamespace: string;
  functionName: string | undefined;
}

export function parseTelemetryConfig(environment: Record<string, string | undefined>): Readonly<TelemetryConfig> {
  const parsed = z.safeParse(telemetrySchema, environment);
  if (!parsed.success) {
    throw new ConfigurationError(parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`));
  }
  return Object.freeze({ metricsNamespace: parsed.data.POWERTOOLS_METRICS_NAMESPACE, functionName: parsed.data.AWS_LAMBDA_FUNCTION_NAME });
}

/** The process's telemetry settings (see parseTelemetryConfig). */
export function getTelemetryConfig(): Readonly<TelemetryConfig> {
  return parseTelemetryConfig(process.env);
}

export interface ServiceConfig {
  /** Where the service's own table and queues live (the Lambda's region). */
  homeRegion: string;
  /** The home region's partition (`aws`, `aws-cn`, `aws-us-gov`): member-role ARNs and the Organizations endpoint. */
  partition: string;
  administratorAccountId: string;
  managedRegions: readonly string[];
  desiredMembersTable: string;
  deadLetterQueueUrl: string;
  requestQueueUrl: string | undefined;
  /** The fan-out: the work queue, and the account-regions per unit; without a queue the scheduled run works in one invocation. */
  fanOut: { workQueueUrl: string | undefined; unitSize: number };
  memberRole: { name: string; externalId: string };
  pruneUnmanaged: boolean;
  invitation: { message: string | undefined; sendEmail: boolean; batchSize: number };
  concurrency: { administratorCallsPerRegion: number; memberAccounts: number };
  maxAttempts: number;
  acceptPolling: { attempts: number; intervalMs: number; firstLookAfterMs: number };
  /** Stop starting new work when the Lambda has less than this left. */
  deadlineSafetyMs: number;
  /** How long a run holds the accounts it works on. */
  leaseSeconds: number;
  /** How long a failure that goes on waits before it is dead-lettered again. */
  deadLetterQuietHours: number;
  /** Each account's way into membership (`auto`), or one way forced for all. */
  membershipMode: MembershipMode;
  /** Macie's `autoEnable` in the regions the administrator administers; undefined leaves it alone. */
  organizationAutoEnable: boolean | undefined;
  /** The table sync from the organization, before each scheduled run; off by default. */
  organizationSync: { enabled: boolean; includeAccounts: readonly string[]; excludeAccounts: readonly string[] };
  eventSource: string;
}

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';

  /** One line per invalid variable: `NAME rule`. */
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
  }
}

export function parseConfig(environment: Record<string, string | undefined>): Readonly<ServiceConfig> {
  const parsed = z.safeParse(environmentSchema, environment);
  if (!parsed.success) {
    throw new ConfigurationError(parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`));
  }
  const env = parsed.data;
  const homeRegion = env.AWS_REGION ?? env.MANAGED_REGIONS[0]!;
  return Object.freeze({
    homeRegion,
    partition: partitionOf(homeRegion),
    administratorAccountId: env.MACIE_ADMINISTRATOR_ACCOUNT_ID,
    managedRegions: Object.freeze(env.MANAGED_REGIONS),
    desiredMembersTable: env.DESIRED_MEMBERS_TABLE,
    deadLetterQueueUrl: env.DEAD_LETTER_QUEUE_URL,
    requestQueueUrl: env.REQUEST_QUEUE_URL,
    fanOut: Object.freeze({ workQueueUrl: env.WORK_QUEUE_URL, unitSize: env.WORK_UNIT_SIZE }),
    memberRole: Object.freeze({ name: env.MEMBER_ROLE_NAME, externalId: env.MEMBER_ROLE_EXTERNAL_ID }),
    pruneUnmanaged: env.PRUNE_UNMANAGED,
    invitation: Object.freeze({
      message: env.INVITATION_MESSAGE,
      sendEmail: env.SEND_INVITATION_EMAIL,
      batchSize: env.INVITATION_BATCH_SIZE,
    }),
    concurrency: Object.freeze({
      administratorCallsPerRegion: env.ADMIN_CONCURRENCY,
      memberAccounts: env.MEMBER_CONCURRENCY,
    }),
    maxAttempts: env.AWS_MAX_ATTEMPTS,
    acceptPolling: Object.freeze({
      attempts: env.ACCEPT_POLL_ATTEMPTS,
      intervalMs: env.ACCEPT_POLL_INTERVAL_MS,
      firstLookAfterMs: env.ACCEPT_FIRST_LOOK_MS,
    }),
    deadlineSafetyMs: env.DEADLINE_SAFETY_MS,
    leaseSeconds: env.LEASE_SECONDS,
    deadLetterQuietHours: env.DEAD_LETTER_QUIET_HOURS,
    membershipMode: env.MEMBERSHIP_MODE,
    organizationAutoEnable: env.ORGANIZATION_AUTO_ENABLE === undefined ? undefined : isTrue(env.ORGANIZATION_AUTO_ENABLE),
    organizationSync: Object.freeze({
      enabled: env.ORGANIZATION_SYNC,
      includeAccounts: Object.freeze(env.SYNC_INCLUDE_ACCOUNTS),
      excludeAccounts: Object.freeze(env.SYNC_EXCLUDE_ACCOUNTS),
    }),
    eventSource: env.EVENT_SOURCE,
  });
}

let cached: Readonly<ServiceConfig> | undefined;

/** The process's configuration, parsed on first use so that importing a handler stays cheap. */
export function getConfig(): Readonly<ServiceConfig> {
  cached ??= parseConfig(process.env);
  return cached;
}

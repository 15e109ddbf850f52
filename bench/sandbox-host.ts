/**
 * The benchmark's sandbox, in a process of its own: the emulator, dynalite and SQS then use the
 * second core instead of competing with the code under test for one event loop, as AWS would not.
 * The parent talks to it over the fork IPC channel with small request/answer messages; call logs
 * are summarised here so that hundreds of thousands of records never cross the channel.
 */
import { startSandbox, type Sandbox, type SandboxOptions } from '#sandbox/index';
import type { FaultKnobs, SeedAccount } from '#sandbox/emulator/index';

export interface CallCount {
  service: string;
  operation: string;
  /** `administrator`, `member` (assumed role) or `other` (a long-term key of another account, e.g. the baseline's administrator). */
  caller: string;
  region: string;
  /** `ok`, or the error code the call was answered with. */
  result: string;
  count: number;
}

export type HostRequest =
  | { method: 'setKnobs'; knobs: Partial<FaultKnobs> }
  | { method: 'seedAccounts'; accounts: SeedAccount[] }
  | { method: 'statusCounts'; administratorAccountId: string; region: string }
  /** Every member's status in a region, by account: the fleet benchmark counts what converged and what was lost. */
  | { method: 'memberStatuses'; administratorAccountId: string; region: string }
  /** Members already in place (a steady-state fleet), seeded in bulk rather than a message each. */
  | { method: 'seedMemberships'; administratorAccountId: string; accountIds: string[]; regions: string[]; via: 'invitation' | 'organization'; tags: Record<string, string> }
  | { method: 'clearCalls' }
  | { method: 'callCounts' }
  | { method: 'credentialsFor'; accountId: string };

export interface HostStarted {
  environment: Record<string, string>;
  endpoints: Sandbox['endpoints'];
  administratorAccountId: string;
  regions: string[];
  workQueueUrl: string;
}

let sandbox: Sandbox | undefined;
// The service's administrator; calls by any other long-term key (the baseline's administrator) count as `other`.
let primaryAdministrator = '';

async function answer(request: HostRequest): Promise<unknown> {
  const box = sandbox!;
  const control = box.emulator.control;
  switch (request.method) {
    case 'setKnobs':
      control.setKnobs(request.knobs);
      return null;
    case 'seedAccounts':
      control.seedAccounts(request.accounts);
      return null;
    case 'statusCounts': {
      const counts: Record<string, number> = {};
      for (const member of control.members(request.administratorAccountId, request.region)) {
        counts[member.relationshipStatus] = (counts[member.relationshipStatus] ?? 0) + 1;
      }
      return counts;
    }
    case 'memberStatuses': {
      const statuses: Record<string, string> = {};
      for (const member of control.members(request.administratorAccountId, request.region)) statuses[member.accountId] = member.relationshipStatus;
      return statuses;
    }
    case 'seedMemberships':
      for (const region of request.regions) {
        for (const accountId of request.accountIds) {
          control.seedMembership({ administratorAccountId: request.administratorAccountId, accountId, region, relationshipStatus: 'Enabled', via: request.via, tags: request.tags });
        }
      }
      return null;
    case 'clearCalls':
      box.clearCalls();
      return null;
    case 'callCounts': {
      const counts = new Map<string, CallCount>();
      const add = (call: Omit<CallCount, 'count'>) => {
        const key = `${call.service}|${call.operation}|${call.caller}|${call.region}|${call.result}`;
        const existing = counts.get(key);
        if (existing) existing.count += 1;
        else counts.set(key, { ...call, count: 1 });
      };
      for (const call of control.calls()) {
        add({
          service: call.service,
          operation: call.operation,
          caller: call.assumedRole ? 'member' : call.accountId === primaryAdministrator ? 'administrator' : 'other',
          region: call.region,
          result: call.errorType ?? 'ok',
        });
      }
      for (const call of box.calls()) {
        if (call.service !== 'dynamodb' && call.service !== 'sqs') continue;
        add({ service: call.service, operation: call.operation, caller: 'service', region: box.homeRegion, result: 'ok' });
      }
      return [...counts.values()];
    }
    case 'credentialsFor':
      return control.credentialsFor(request.accountId);
  }
}

process.on('message', (message: { id: number; request?: HostRequest; start?: SandboxOptions; close?: true }) => {
  const reply = (body: Record<string, unknown>) => process.send!({ id: message.id, ...body });
  void (async () => {
    try {
      if (message.start) {
        sandbox = await startSandbox(message.start);
        primaryAdministrator = sandbox.administrator.accountId;
        const started: HostStarted = {
          environment: sandbox.environment(),
          endpoints: sandbox.endpoints,
          administratorAccountId: sandbox.administrator.accountId,
          regions: sandbox.regions,
          workQueueUrl: sandbox.workQueueUrl,
        };
        reply({ result: started });
      } else if (message.close) {
        await sandbox?.close();
        reply({ result: null });
        process.disconnect();
      } else if (message.request) {
        reply({ result: await answer(message.request) });
      }
    } catch (error) {
      reply({ error: error instanceof Error ? error.stack ?? error.message : String(error) });
    }
  })();
});

import pLimit, { type LimitFunction } from 'p-limit';
import { AwsCallError, toAwsCallError } from '#shared/errors';
import type { ExecutionOutcome } from '#shared/domain/outcomes';
import type { MembershipAction, MembershipActionKind, MembershipPlan, PlannedMembership } from '#shared/domain/types';
import type { InvitationOptions, MacieAdministrator, MemberAccountAcceptor, UnprocessedAccount } from '#shared/ports';

export interface ExecutionSettings {
  administratorAccountId: string;
  invitation: InvitationOptions & { batchSize: number };
  concurrency: { administratorCallsPerRegion: number; memberAccounts: number };
}

export interface ExecutionPorts {
  macie: MacieAdministrator;
  acceptor: MemberAccountAcceptor;
}

/** Lets a run stop starting new work before its deadline. */
export interface WorkBudget {
  canStartWork(): boolean;
}

export const UNLIMITED_BUDGET: WorkBudget = { canStartWork: () => true };

export interface ExecutionProgress {
  (finished: ExecutionOutcome): void;
}

/**
 * Runs a plan. Every account × region runs its actions in order; different ones run at once,
 * bounded per region on the administrator side (one Macie rate limit per account and region) and
 * overall on the member side (each member account has its own). Invitations are gathered into
 * batches as accounts become ready for them, so accepting the first batch overlaps creating the next.
 */
export interface ExecutionOptions {
  budget?: WorkBudget;
  onOutcome?: ExecutionProgress;
  /** Per-account invitation messages that override the configured one. */
  invitationMessages?: ReadonlyMap<string, string>;
}

/** Work that waited for a limiter slot until the run's budget was spent; it is deferred, not failed. */
class BudgetExhausted extends Error {}

const DEFERRED = { status: 'deferred', note: 'stopped before the deadline; the next run continues' } as const;

export async function executePlan(
  plan: MembershipPlan,
  ports: ExecutionPorts,
  settings: ExecutionSettings,
  { budget = UNLIMITED_BUDGET, onOutcome, invitationMessages }: ExecutionOptions = {},
): Promise<ExecutionOutcome[]> {
  const work = [
    ...plan.items.map((item) => ({ item, unmanaged: false })),
    ...plan.unmanaged
      .filter((member) => member.actions.length > 0)
      .map((member) => ({
        unmanaged: true,
        item: {
          accountId: member.accountId,
          region: member.region,
          desiredState: 'absent',
          observedStatus: member.relationshipStatus,
          verdict: 'change',
          reason: 'unmanaged member, pruning is on',
          actions: member.actions,
        } satisfies PlannedMembership,
      })),
  ];
  const regions = new Set(work.map(({ item }) => item.region));
  const adminLimits = new Map<string, LimitFunction>(
    [...regions].map((region) => [region, pLimit(settings.concurrency.administratorCallsPerRegion)]),
  );
  const memberLimit = pLimit(settings.concurrency.memberAccounts);
  // The budget is asked again when a limiter lets the work start: a run queues most of its work
  // at once, so a check before queueing would let work start long after the deadline.
  const whenBudgetAllows = <T>(limit: LimitFunction, work: () => Promise<T>): Promise<T> =>
    limit(() => (budget.canStartWork() ? work() : Promise.reject(new BudgetExhausted())));
  // One batcher per region and invitation message: accounts invited together share the message.
  const batchers = new Map<string, InvitationBatcher>();
  const batcherKey = (item: PlannedMembership) =>
    `${item.region}\n${invitationMessages?.get(item.accountId) ?? settings.invitation.message ?? ''}`;
  for (const { item } of work) {
    if (!item.actions.some((action) => action.kind === 'invite')) continue;
    const key = batcherKey(item);
    const existing = batchers.get(key);
    if (existing) {
      existing.expectOneMore();
      continue;
    }
    const options = { ...settings.invitation, message: invitationMessages?.get(item.accountId) ?? settings.invitation.message };
    // Invitations bypass the administrator limiter: they are few (one call per batch), and queueing
    // them behind every CreateMember would hold back acceptance until the last member is created.
    batchers.set(
      key,
      new InvitationBatcher(settings.invitation.batchSize, (accountIds) =>
        ports.macie.createInvitations(item.region, accountIds, options),
      ),
    );
  }

  const runItem = async ({ item, unmanaged }: { item: PlannedMembership; unmanaged: boolean }): Promise<ExecutionOutcome> => {
    const batcher = batchers.get(batcherKey(item));
    const completed: MembershipActionKind[] = [];
    const willInvite = item.actions.some((action) => action.kind === 'invite');
    const willAccept = item.actions.some((action) => action.kind === 'accept');
    let invited = false;
    const finish = (outcome: Omit<ExecutionOutcome, 'item' | 'unmanaged' | 'completed'>): ExecutionOutcome => {
      if (willInvite && !invited) batcher?.withdraw();
      const result = { item, unmanaged, completed, ...outcome };
      onOutcome?.(result);
      return result;
    };
    if (item.actions.length === 0) return finish({ status: 'noop' });

    for (const action of item.actions) {
      // Every action asks the budget when its limiter lets it start (see whenBudgetAllows); invitations
      // are batched with accounts already under way and always go out.
      try {
        if (action.kind === 'invite') {
          invited = true;
          const unprocessed = await batcher!.invite(item.accountId);
          if (unprocessed?.errorCode === 'ClientError') {
            // A run overlapping this one may have invited or even enrolled the account since this
            // run looked; Macie then refuses the invitation. Ask before calling it a failure.
            const now = await adminLimits.get(item.region)!(() => ports.macie.getMember(item.region, item.accountId)).catch(() => undefined);
            if (now?.relationshipStatus === 'Enabled' || now?.relationshipStatus === 'Paused') {
              return finish({ status: 'done', observedAfter: now.relationshipStatus, note: 'another run enrolled this account meanwhile' });
            }
            if (now?.relationshipStatus === 'Invited') {
              completed.push('invite');
              continue;
            }
          }
          if (unprocessed) {
            return finish({
              status: 'failed',
              failure: {
                action: 'invite',
                operation: 'CreateInvitations',
                code: unprocessed.errorCode,
                message: unprocessed.errorMessage,
                attempts: 1,
              },
            });
          }
        } else if (action.kind === 'accept') {
          // The limiter bounds the member-side calls in flight, not the waits between polls.
          const result = await ports.acceptor.acceptInvitationInMemberAccount(item.accountId, item.region, settings.administratorAccountId, {
            schedule: (calls) => whenBudgetAllows(memberLimit, calls),
          });
          if (result === 'invitationNotVisible') {
            return finish({ status: 'pending', note: 'the invitation is not visible to the member yet; the next run accepts it' });
          }
        } else {
          await whenBudgetAllows(adminLimits.get(item.region)!, () => {
            // The member's session is assumed while the administrator creates and invites it.
            if (willAccept) ports.acceptor.prepareAcceptance?.(item.accountId, item.region);
            return runAdministratorAction(ports.macie, item, action);
          });
        }
        completed.push(action.kind);
      } catch (error) {
        if (error instanceof BudgetExhausted) return finish(DEFERRED);
        if (action.kind === 'createMember' && error instanceof AwsCallError && error.code === 'ConflictException') {
          // Another run (a schedule overlapping an SQS batch or an onboarding event) created it since
          // this run looked. Inviting too would re-invite while that run's invitation is pending.
          completed.push(action.kind);
          return finish({ status: 'pending', note: 'another run created this member; the next run continues from its state' });
        }
        const failure = toAwsCallError(operationOf(action), error);
        return finish({
          status: 'failed',
          failure: {
            action: action.kind,
            operation: failure.operation,
            code: failure.code,
            message: failure.message,
            attempts: failure.attempts,
          },
        });
      }
    }
    return finish({ status: 'done' });
  };

  return Promise.all(work.map(runItem));
}

const OPERATIONS: Record<MembershipActionKind, string> = {
  disassociateMember: 'DisassociateMember',
  deleteMember: 'DeleteMember',
  createMember: 'CreateMember',
  invite: 'CreateInvitations',
  accept: 'AcceptInvitation',
  updateMemberSession: 'UpdateMemberSession',
  updateTags: 'TagResource',
};

function operationOf(action: MembershipAction): string {
  return OPERATIONS[action.kind];
}

async function runAdministratorAction(macie: MacieAdministrator, item: PlannedMembership, action: MembershipAction): Promise<void> {
  const { region, accountId } = item;
  try {
    switch (action.kind) {
      case 'disassociateMember':
        return await macie.disassociateMember(region, accountId);
      case 'deleteMember':
        return await macie.deleteMember(region, accountId);
      case 'createMember':
        return await macie.createMember(region, accountId, action.email, action.tags);
      case 'updateMemberSession':
        return await macie.updateMemberSession(region, accountId, action.status);
      case 'updateTags':
        if (Object.keys(action.tagsToSet).length > 0) await macie.tagMember(region, action.arn, action.tagsToSet);
        if (action.tagKeysToRemove.length > 0) await macie.untagMember(region, action.arn, action.tagKeysToRemove);
        return;
      case 'invite':
      case 'accept':
        throw new Error(`${action.kind} is not an administrator action`);
    }
  } catch (error) {
    if (isAlreadyDone(action.kind, error)) return;
    throw error;
  }
}

/**
 * Another run (a schedule overlapping an SQS batch, a redelivered request) may have done this
 * already; Macie says so with a conflict, or with not-found for something already removed.
 */
function isAlreadyDone(kind: MembershipActionKind, error: unknown): boolean {
  if (!(error instanceof AwsCallError)) return false;
  if (error.code === 'ConflictException') return kind !== 'createMember';
  return error.code === 'ResourceNotFoundException' && (kind === 'deleteMember' || kind === 'disassociateMember');
}

/**
 * Collects accounts that are ready to be invited in one region and sends them in batches: a batch
 * goes out when it is full, or when every account still expected has arrived or dropped out.
 */
class InvitationBatcher {
  private waiting: Array<{ accountId: string; resolve: (entry: UnprocessedAccount | undefined) => void; reject: (error: unknown) => void }> = [];

  private expected = 1;

  constructor(
    private readonly batchSize: number,
    private readonly send: (accountIds: string[]) => Promise<UnprocessedAccount[]>,
  ) {}

  expectOneMore(): void {
    this.expected += 1;
  }

  invite(accountId: string): Promise<UnprocessedAccount | undefined> {
    const result = new Promise<UnprocessedAccount | undefined>((resolve, reject) => {
      this.waiting.push({ accountId, resolve, reject });
    });
    this.expected -= 1;
    this.flushIfReady();
    return result;
  }

  /** An account that was going to be invited failed earlier, or the run stopped. */
  withdraw(): void {
    this.expected -= 1;
    this.flushIfReady();
  }

  private flushIfReady(): void {
    while (this.waiting.length >= this.batchSize || (this.waiting.length > 0 && this.expected === 0)) {
      const batch = this.waiting.splice(0, this.batchSize);
      this.send(batch.map((entry) => entry.accountId)).then(
        (unprocessed) => {
          const byAccount = new Map(unprocessed.map((entry) => [entry.accountId, entry]));
          for (const entry of batch) entry.resolve(byAccount.get(entry.accountId));
        },
        (error: unknown) => {
          for (const entry of batch) entry.reject(error);
        },
      );
    }
  }
}

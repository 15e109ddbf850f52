import pLimit, { type LimitFunction } from 'p-limit';
import { toAwsCallError } from '#shared/errors';
import { backoffBeforeRound } from '#shared/aws/backoff';
import {
  OPERATION_OF,
  afterAcceptance,
  afterInvitation,
  afterCreateConflict,
  afterStepError,
  createConflictNeedsSecondLook,
  invitationNeedsSecondLook,
  invitationWorthRetrying,
  type StepEnd,
} from '#shared/domain/macie-answers';
import type { ExecutionOutcome } from '#shared/domain/outcomes';
import { hasWork, plannedWork } from '#shared/domain/plan';
import type { MembershipAction, MembershipActionKind, MembershipPlan, PlannedMembership } from '#shared/domain/types';
import type { InvitationOptions, MacieAdministrator, MemberAccountAcceptor, UnprocessedAccount } from '#shared/ports';

export interface ExecutionSettings {
  administratorAccountId: string;
  invitation: Omit<InvitationOptions, 'message'> & { batchSize: number };
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

export interface ExecutionOptions {
  budget?: WorkBudget;
  /** Called as each account-region finishes (progress bars, streaming records). */
  onOutcome?: (finished: ExecutionOutcome) => void;
  /** The clock invitations are timed by; the acceptor's must be the same one. */
  now?: () => number;
  /**
   * Asked before an item's first step, so a lease is taken when the work reaches the account rather
   * than all of them before the first call: an outcome ends the item there, undefined lets it run.
   */
  admit?: (item: PlannedMembership) => Promise<Pick<ExecutionOutcome, 'status' | 'note'> | undefined>;
}

/** Work that waited for a limiter slot until the run's budget was spent; it is deferred, not failed. */
class BudgetExhausted extends Error {}

const DEFERRED = { status: 'deferred', note: 'stopped before the deadline; the next run continues' } as const;

/**
 * Runs a plan, deciding nothing itself: the plan's steps say what to call, and how an answer ends a
 * step (go on, or finish the item with an outcome) is the domain's (`macie-answers`). What is left
 * here is scheduling. Every account ×
 * region runs its steps in order; different ones run at once, bounded per region on the
 * administrator side (one Macie rate limit per account and region) and overall on the member side
 * (each member account has its own). Invitations are gathered into batches as accounts become
 * ready for them, so accepting the first batch overlaps creating the next. The budget is asked
 * when each step starts.
 */
export async function executePlan(
  plan: Pick<MembershipPlan, 'items' | 'unmanaged'>,
  ports: ExecutionPorts,
  settings: ExecutionSettings,
  { budget = UNLIMITED_BUDGET, onOutcome, now = Date.now, admit }: ExecutionOptions = {},
): Promise<ExecutionOutcome[]> {
  const work = plannedWork(plan);
  const adminLimits = new Map<string, LimitFunction>(
    [...new Set(work.map((item) => item.region))].map((region) => [region, pLimit(settings.concurrency.administratorCallsPerRegion)]),
  );
  const memberLimit = pLimit(settings.concurrency.memberAccounts);
  // The budget is asked again when a limiter lets the work start: a run queues most of its work
  // at once, so a check before queueing would let work start long after the deadline.
  const whenBudgetAllows = <T>(limit: LimitFunction, run: () => Promise<T>): Promise<T> =>
    limit(() => (budget.canStartWork() ? run() : Promise.reject(new BudgetExhausted())));
  const batchers = invitationBatchers(work, ports.macie, settings);

  const runItem = async (item: PlannedMembership): Promise<ExecutionOutcome> => {
    const invite = inviteStepOf(item);
    const batcher = invite ? batchers.get(batcherKey(item.region, invite)) : undefined;
    const willAccept = item.actions.some((action) => action.kind === 'accept');
    const completed: MembershipActionKind[] = [];
    let invited = false;
    // When CreateInvitations answered for this account: its invitation can be visible from then on, after a delay.
    let invitedAt: number | undefined;
    const finish = (outcome: Omit<ExecutionOutcome, 'item' | 'completed'>): ExecutionOutcome => {
      if (batcher && !invited) batcher.withdraw();
      const result = { item, completed, ...outcome };
      onOutcome?.(result);
      return result;
    };
    if (!hasWork(item)) return finish({ status: 'noop' });
    const refused = await admit?.(item);
    if (refused) return finish(refused);

    let skip: MembershipActionKind | undefined;
    for (const action of item.actions) {
      if (skip === action.kind) {
        // Found done by a second look: counted as done, and no longer awaited by the invitation batch.
        skip = undefined;
        if (action.kind === 'invite' && !invited) {
          invited = true;
          batcher?.withdraw();
        }
        completed.push(action.kind);
        continue;
      }
      let end: StepEnd;
      try {
        if (action.kind === 'invite') {
          // Invitations are batched with accounts already under way and always go out.
          invited = true;
          let unprocessed = await batcher!.invite(item.accountId);
          invitedAt = now();
          if (invitationWorthRetrying(unprocessed)) {
            await backoffBeforeRound(1);
            const options: InvitationOptions = { message: action.message, sendEmail: settings.invitation.sendEmail };
            [unprocessed] = await adminLimits.get(item.region)!(() => ports.macie.createInvitations(item.region, [item.accountId], options));
            invitedAt = now();
          }
          const secondLook = invitationNeedsSecondLook(unprocessed)
            ? await adminLimits.get(item.region)!(() => ports.macie.getMember(item.region, item.accountId)).catch(() => undefined)
            : undefined;
          end = afterInvitation(unprocessed, secondLook?.relationshipStatus);
        } else if (action.kind === 'accept') {
          // The limiter bounds the member-side calls in flight, not the waits between polls.
          const result = await ports.acceptor.acceptInvitationInMemberAccount(item.accountId, item.region, settings.administratorAccountId, {
            schedule: (calls) => whenBudgetAllows(memberLimit, calls),
            invitedAt,
          });
          end = afterAcceptance(result);
        } else {
          await whenBudgetAllows(adminLimits.get(item.region)!, () => {
            // The member's session is assumed while the administrator creates and invites it.
            if (willAccept) ports.acceptor.prepareAcceptance?.(item.accountId, item.region);
            return runAdministratorStep(ports.macie, item, action);
          });
          end = { next: 'continue' };
        }
      } catch (error) {
        if (error instanceof BudgetExhausted) return finish(DEFERRED);
        const { operation, code, message, attempts } = toAwsCallError(OPERATION_OF[action.kind], error);
        const failure = { operation, code, message, attempts };
        if (createConflictNeedsSecondLook(action.kind, failure)) {
          const secondLook = await adminLimits.get(item.region)!(() => ports.macie.getMember(item.region, item.accountId)).catch(() => undefined);
          end = afterCreateConflict(failure, secondLook?.relationshipStatus, action.kind === 'createMember' ? action.via : 'invitation');
        } else {
          end = afterStepError(action.kind, failure);
        }
      }
      if (end.next === 'continue') {
        completed.push(action.kind);
        skip = end.alreadyDone;
        continue;
      }
      const { next: _finished, stepCompleted, ...outcome } = end;
      if (stepCompleted) completed.push(action.kind);
      return finish(outcome);
    }
    return finish({ status: 'done' });
  };

  return Promise.all(work.map(runItem));
}

function inviteStepOf(item: PlannedMembership): Extract<MembershipAction, { kind: 'invite' }> | undefined {
  return item.actions.find((action): action is Extract<MembershipAction, { kind: 'invite' }> => action.kind === 'invite');
}

/** Accounts invited together share a region and a message. */
function batcherKey(region: string, invite: Extract<MembershipAction, { kind: 'invite' }>): string {
  return `${region}\n${invite.message ?? ''}`;
}

/**
 * One batcher per region and invitation message, expecting every account that will be invited
 * through it. Invitations bypass the administrator limiter: they are few (one call per batch), and
 * queueing them behind every CreateMember would hold back acceptance until the last member is created.
 */
function invitationBatchers(work: readonly PlannedMembership[], macie: MacieAdministrator, settings: ExecutionSettings): Map<string, InvitationBatcher> {
  const batchers = new Map<string, InvitationBatcher>();
  for (const item of work) {
    const invite = inviteStepOf(item);
    if (!invite) continue;
    const key = batcherKey(item.region, invite);
    const existing = batchers.get(key);
    if (existing) {
      existing.expectOneMore();
      continue;
    }
    const options: InvitationOptions = { message: invite.message, sendEmail: settings.invitation.sendEmail };
    batchers.set(key, new InvitationBatcher(settings.invitation.batchSize, (accountIds) => macie.createInvitations(item.region, accountIds, options)));
  }
  return batchers;
}

/** Translates an administrator-side step into its port call; invitations and acceptance are scheduled above. */
async function runAdministratorStep(macie: MacieAdministrator, item: PlannedMembership, action: MembershipAction): Promise<void> {
  const { region, accountId } = item;
  switch (action.kind) {
    case 'disassociateMember':
      return macie.disassociateMember(region, accountId);
    case 'deleteMember':
      return macie.deleteMember(region, accountId);
    case 'createMember':
      return macie.createMember(region, accountId, action.email, action.tags);
    case 'updateMemberSession':
      return macie.updateMemberSession(region, accountId, action.status);
    case 'updateTags':
      if (Object.keys(action.tagsToSet).length > 0) await macie.tagMember(region, action.arn, action.tagsToSet);
      if (action.tagKeysToRemove.length > 0) await macie.untagMember(region, action.arn, action.tagKeysToRemove);
      return;
    case 'invite':
    case 'accept':
      throw new Error(`${action.kind} is not an administrator step`);
  }
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

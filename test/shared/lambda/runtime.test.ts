import { afterEach, describe, expect, it, vi } from 'vitest';
import { summarizeRun } from '#shared/domain/outcomes';
import { reportRunWithPowertools } from '#shared/lambda/runtime';
import { logger, metrics } from '#shared/powertools';

/** What a run leaves in the functions' logs and metrics. */

afterEach(() => {
  vi.restoreAllMocks();
});

const corruptRow = {
  accountId: '222222222201',
  problems: [{ field: 'desiredState', rule: 'oneOf', message: 'desiredState must be "member" or "absent", got "absnet"' }],
};

describe('reportRunWithPowertools', () => {
  it('warns about corrupt rows and counts them', () => {
    const addMetric = vi.spyOn(metrics, 'addMetric').mockImplementation(() => metrics);
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    vi.spyOn(logger, 'info').mockImplementation(() => undefined);

    reportRunWithPowertools(summarizeRun({ trigger: 'schedule', outcomes: [], unmanaged: 0, unobserved: [], corruptRows: [corruptRow], deadLettered: 0, durationMs: 1 }));

    expect(addMetric).toHaveBeenCalledWith('CorruptRows', 'Count', 1);
    expect(warn).toHaveBeenCalledWith('Some desired rows are corrupt and were not reconciled; fix them in the table', { corruptRows: [corruptRow] });
  });

  it('counts zero corrupt rows without a warning', () => {
    const addMetric = vi.spyOn(metrics, 'addMetric').mockImplementation(() => metrics);
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    vi.spyOn(logger, 'info').mockImplementation(() => undefined);

    reportRunWithPowertools(summarizeRun({ trigger: 'schedule', outcomes: [], unmanaged: 0, unobserved: [], corruptRows: [], deadLettered: 0, durationMs: 1 }));

    expect(addMetric).toHaveBeenCalledWith('CorruptRows', 'Count', 0);
    expect(warn).not.toHaveBeenCalled();
  });
});

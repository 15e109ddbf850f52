import { afterEach, describe, expect, it, vi } from 'vitest';
import { logger } from '#shared/powertools';

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

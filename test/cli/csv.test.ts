import { describe, expect, it } from 'vitest';
import { parseAccountCsv } from '#cli/csv';

describe('parseAccountCsv', () => {
  it('reads the headerless accountId,email lines of the AWS enablement scripts', () => {
    expect(parseAccountCsv('222222222201,a@example.com\n222222222202,b@example.com\n')).toEqual({
      accounts: [
        { line: 1, accountId: '222222222201', email: 'a@example.com' },
        { line: 2, accountId: '222222222202', email: 'b@example.com' },
      ],
      problems: [],
      headerLine: undefined,
    });
  });

  it('skips a header, blank lines, whitespace, quotes, CRLF, a BOM and trailing empty cells', () => {
    const text = '\uFEFF\r\nAccount ID , Email\r\n\r\n  222222222201 ,  a@example.com  \r\n"222222222202","b@example.com",,\r\n   \r\n';
    expect(parseAccountCsv(text)).toEqual({
      accounts: [
        { line: 4, accountId: '222222222201', email: 'a@example.com' },
        { line: 5, accountId: '222222222202', email: 'b@example.com' },
      ],
      problems: [],
      headerLine: 2,
    });
  });

  it('reports rows with the wrong number of columns by line number, and does not judge the values', () => {
    const { accounts, problems } = parseAccountCsv('222222222201\n222222222202,b@example.com,extra\n12345,not-an-email\n');
    expect(problems).toEqual([
      { line: 1, field: 'row', rule: 'columns', message: 'expected 2 columns (accountId,email), got 1' },
      { line: 2, field: 'row', rule: 'columns', message: 'expected 2 columns (accountId,email), got 3' },
    ]);
    // Values are validated by the request parser, like SQS requests.
    expect(accounts).toEqual([{ line: 3, accountId: '12345', email: 'not-an-email' }]);
  });

  it('treats only the first non-blank line as a possible header', () => {
    const { accounts, problems, headerLine } = parseAccountCsv('222222222201,a@example.com\naccountId,email\n');
    expect(headerLine).toBeUndefined();
    expect(problems).toEqual([]);
    expect(accounts).toHaveLength(2);
    expect(accounts[1]).toEqual({ line: 2, accountId: 'accountId', email: 'email' });
  });
});

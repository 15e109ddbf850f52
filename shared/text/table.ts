import { stripVTControlCharacters } from 'node:util';

/**
 * Renders rows as a plain text table with padded columns; the first row is the header. Cells may
 * carry colour: widths are measured on the visible text.
 */
export function renderTable(rows: ReadonlyArray<ReadonlyArray<string>>): string {
  const width = (cell: string) => stripVTControlCharacters(cell).length;
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, column) => (widths[column] = Math.max(widths[column] ?? 0, width(cell))));
  const pad = (cell: string, column: number) => cell + ' '.repeat(widths[column]! - width(cell));
  const line = (row: ReadonlyArray<string>) => row.map(pad).join('  ').trimEnd();
  const [header, ...body] = rows;
  if (!header) return '';
  return [line(header), line(widths.map((columnWidth) => '-'.repeat(columnWidth))), ...body.map(line)].join('\n');
}

/**
 * The one CSV reader (csv-parse underneath), used by `spikeloop import`, `spikeloop analyze <file.csv>` and the
 * arbitrary-waveform protocol. It finds the separator (comma, semicolon or tab) and decimal commas, and
 * parses cells as numbers strictly: "1.5e-3" is a number, "1.5 V" or "12abc" is not.
 */
import { parse } from 'csv-parse/sync';
import { AppError } from '../../common/errors.ts';

/** A refused file (AppError BAD_IMPORT): the message names the file, and the line or setting at fault (`field`: the file, /body, or the query field of an option, importOption). */
export class ImportError extends AppError {
  constructor(message: string, field = '/body') {
    super('BAD_IMPORT', message, field);
  }
}

/**
 * How the reader's messages name an option: the flags of `spikeloop import` ('cli', the default) or the query
 * fields of POST /api/import ('api'). A string, not a function: the options travel to a pool thread.
 */
export type OptionNaming = 'cli' | 'api';
/** The options a message may name; `noInferRoles` is inference turned off. */
export type ImportOptionName = 'rate' | 'stimulus' | 'format' | 'sidecar' | 'noInferRoles';

/**
 * An option as the caller writes it: `--rate 5` / `rate=5`; without a value, `--rate` / `rate=`; and its JSON
 * pointer in the request (`/query/rate`, the field of an error it causes, whichever way it was given).
 */
export function importOption(naming: OptionNaming | undefined, name: ImportOptionName, value?: string | number): { text: string; field: string } {
  if (name === 'noInferRoles') return { text: naming === 'api' ? 'inferRoles=false' : '--no-infer-roles', field: '/query/inferRoles' };
  const text = naming === 'api' ? `${name}=${value ?? ''}` : `--${name}${value === undefined ? '' : ` ${value}`}`;
  return { text, field: `/query/${name}` };
}

/** Columns a CSV may have (scope exports have a few; a line of 10⁸ fields is refused before parsing). */
export const MAX_CSV_COLUMNS = 4096;
/** Characters of one line. */
export const MAX_CSV_LINE = 1 << 20;

export interface CsvTable {
  /** Records, cells trimmed; empty lines skipped, trailing empty cells kept. */
  rows: string[][];
  /** 1-based line number of each record in the text. */
  lines: number[];
  delimiter: ',' | ';' | '\t';
  decimalComma: boolean;
}

// `\d+(\.\d*)?`, not `\d+\.?\d*`: the latter splits a run of digits every way before it fails (a cell of 16,000
// digits and a letter took 1.2 s, quadratic)
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const DECIMAL_COMMA_NUMBER = /^[+-]?\d+,\d+([eE][+-]?\d+)?$/;

/** A cell as a number (NaN when it is not one); with `decimalComma`, "0,5" is 0.5. */
export function cellNumber(cell: string, decimalComma = false): number {
  const s = decimalComma ? cell.replace(',', '.') : cell;
  return NUMBER.test(s) ? Number(s) : NaN;
}

function splitCount(line: string, d: string): number {
  let n = 1;
  for (let i = 0; i < line.length; i++) if (line[i] === d) n++;
  return n;
}

/**
 * Parses CSV text. The separator is the one of `;`, tab, `,` that splits the last lines (data, not a
 * preamble) into the same number (≥ 2) of fields, semicolon and tab first: with a semicolon separator a
 * comma is a decimal comma. `comment` skips lines starting with it.
 */
export function parseCsv(text: string, what: string, opts: { comment?: string } = {}): CsvTable {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const raw = text.split(/\r\n|\n|\r/);
  const body: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i].length > MAX_CSV_LINE) throw new ImportError(`${what}: line ${i + 1} is longer than ${MAX_CSV_LINE} characters (more columns than a recording has?)`);
    if (raw[i].trim() !== '' && !(opts.comment && raw[i].trimStart().startsWith(opts.comment))) body.push(raw[i]);
  }
  if (body.length === 0) throw new ImportError(`${what}: the file is empty`);
  const tail = body.slice(-50);
  let delimiter: CsvTable['delimiter'] = ',';
  for (const d of [';', '\t', ','] as const) {
    const counts = tail.map((l) => splitCount(l.trim(), d));
    if (counts[0] >= 2 && counts.every((c) => c === counts[0])) {
      delimiter = d;
      break;
    }
  }
  const widest = Math.max(...body.slice(0, 200).map((l) => splitCount(l, delimiter)));
  if (widest > MAX_CSV_COLUMNS) throw new ImportError(`${what}: ${widest} columns; at most ${MAX_CSV_COLUMNS} are read`);
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      delimiter,
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      relax_quotes: true,
      max_record_size: MAX_CSV_LINE,
      info: true,
      ...(opts.comment ? { comment: opts.comment, comment_no_infix: true } : {}),
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    throw new ImportError(`${what}: not readable as CSV: ${(err as Error).message}`);
  }
  const rows = records.map((r) => r.record);
  const lines = records.map((r) => r.info.lines);
  const decimalComma = delimiter !== ',' && rows.slice(-50).some((r) => r.some((c) => DECIMAL_COMMA_NUMBER.test(c)));
  return { rows, lines, delimiter, decimalComma };
}

/**
 * A small interpreter for the TSP (Lua) statements instrument-control programs send a Keithley 2600B
 * line by line: assignments (`smua.source.levelv = 1`, `a, b = smua.measure.iv()`), function calls
 * (`smua.trigger.source.listv({0, 0.1})`, `print(...)`, `printbuffer(...)`), numbers, strings, table
 * constructors, unary minus and + - * / arithmetic. Not a Lua: no control flow, functions or scripts.
 * Attributes and functions are registered by path (`smua.source.levelv`); unknown names read as nil,
 * as in Lua. Syntax errors throw TspError(-285), run-time errors TspError(-286), like the instrument.
 */

export class TspError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export type TspValue = number | string | boolean | null | TspValue[] | { ref: string };

type Tok = { k: 'num'; v: number } | { k: 'str'; v: string } | { k: 'name'; v: string } | { k: 'op'; v: string } | { k: 'eof' };

const NUM_RE = /0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/y;
const NAME_RE = /[A-Za-z_][A-Za-z0-9_]*/y;

/** Tokens of one line; linear in its length (sticky regexes, no slicing), so long source lists stay cheap. */
function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
      continue;
    }
    if (c === '-' && src[i + 1] === '-') break; // comment to end of line
    if ((c >= '0' && c <= '9') || (c === '.' && src[i + 1] >= '0' && src[i + 1] <= '9')) {
      NUM_RE.lastIndex = i;
      const m = NUM_RE.exec(src)!;
      out.push({ k: 'num', v: Number(m[0]) });
      i += m[0].length;
      continue;
    }
    NAME_RE.lastIndex = i;
    const name = NAME_RE.exec(src);
    if (name) {
      out.push({ k: 'name', v: name[0] });
      i += name[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new TspError(-285, `TSP Syntax error at line 1: unfinished string near '${src.slice(i, i + 10)}'`);
      out.push({ k: 'str', v: src.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '==' || two === '~=' || two === '..' || two === '<=' || two === '>=') {
      out.push({ k: 'op', v: two });
      i += 2;
      continue;
    }
    if ('=(){}[],.;+-*/<>'.includes(c)) {
      out.push({ k: 'op', v: c });
      i++;
      continue;
    }
    throw new TspError(-285, `TSP Syntax error at line 1: unexpected symbol near '${c}'`);
  }
  out.push({ k: 'eof' });
  return out;
}

/** What the interpreter asks its host for. */
export interface TspHost {
  /** Value of a dotted path (attribute, constant, or global); undefined if unknown (reads as nil). */
  get(path: string): TspValue | undefined;
  /** Assigns to a path; throw TspError for read-only or unknown attributes. */
  set(path: string, value: TspValue): void;
  /** Calls the function at `path`; undefined if there is no such function. */
  call(path: string, args: TspValue[]): TspValue[] | undefined;
}

// An expression's value is either a resolved value or an unresolved dotted path (resolved on use).
type Ev = { path: string } | { value: TspValue; multi?: TspValue[] };

export class TspInterpreter {
  private toks: Tok[] = [];
  private p = 0;
  constructor(private readonly host: TspHost) {}

  /** Parses and runs one line (a chunk of statements). Parse errors are found before anything runs. */
  run(line: string): void {
    this.toks = tokenize(line);
    this.p = 0;
    const stmts: (() => void)[] = [];
    while (this.peek().k !== 'eof') {
      stmts.push(this.statement());
      if (this.isOp(';')) this.p++;
    }
    for (const s of stmts) s();
  }

  private peek(): Tok {
    return this.toks[this.p];
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t.k === 'op' && t.v === v;
  }
  private expectOp(v: string): void {
    if (!this.isOp(v)) throw this.syntax(`'${v}' expected`);
    this.p++;
  }
  private syntax(msg: string): TspError {
    const t = this.peek();
    const near = t.k === 'eof' ? '<eof>' : String(t.v);
    return new TspError(-285, `TSP Syntax error at line 1: ${msg} near '${near}'`);
  }

  // statement := 'local'? target {',' target} '=' exp {',' exp} | callexp
  private statement(): () => void {
    const t = this.peek();
    if (t.k === 'name' && t.v === 'local') this.p++;
    const first = this.prefix();
    if (this.isOp('=') || this.isOp(',')) {
      const targets = [first];
      while (this.isOp(',')) {
        this.p++;
        targets.push(this.prefix());
      }
      this.expectOp('=');
      const exprs = [this.expr()];
      while (this.isOp(',')) {
        this.p++;
        exprs.push(this.expr());
      }
      for (const tg of targets) if (tg.kind !== 'path') throw this.syntax('cannot assign to a call');
      return () => {
        const values = this.evalList(exprs);
        targets.forEach((tg, k) => this.host.set((tg as { kind: 'path'; path: () => string }).path(), values[k] ?? null));
      };
    }
    if (first.kind !== 'call') throw this.syntax('syntax error');
    return () => void first.run();
  }

  private evalList(exprs: (() => Ev)[]): TspValue[] {
    const out: TspValue[] = [];
    exprs.forEach((e, k) => {
      const ev = e();
      if (k === exprs.length - 1 && 'multi' in ev && ev.multi) out.push(...ev.multi);
      else out.push(this.resolve(ev));
    });
    return out;
  }

  private resolve(ev: Ev): TspValue {
    if ('value' in ev) return ev.value;
    const v = this.host.get(ev.path);
    return v === undefined ? null : v;
  }

  // prefix := Name {'.' Name | '[' exp ']' | '(' args ')' | tableconstructor | String}
  private prefix(): { kind: 'path'; path: () => string; ev: () => Ev } | { kind: 'call'; run: () => TspValue[]; ev: () => Ev } {
    const t = this.peek();
    if (t.k !== 'name') throw this.syntax('unexpected symbol');
    this.p++;
    let parts: (string | (() => Ev))[] = [t.v];
    let callRun: (() => TspValue[]) | null = null;
    for (;;) {
      if (this.isOp('.')) {
        this.p++;
        const n = this.peek();
        if (n.k !== 'name') throw this.syntax('<name> expected');
        this.p++;
        if (callRun) throw this.syntax('indexing a call result is not supported');
        parts.push(n.v);
      } else if (this.isOp('[')) {
        this.p++;
        const idx = this.expr();
        this.expectOp(']');
        parts.push(idx);
      } else if (this.isOp('(') || this.isOp('{') || this.peek().k === 'str') {
        let args: (() => Ev)[] = [];
        if (this.isOp('(')) {
          this.p++;
          if (!this.isOp(')')) {
            args.push(this.expr());
            while (this.isOp(',')) {
              this.p++;
              args.push(this.expr());
            }
          }
          this.expectOp(')');
        } else args = [this.simple()];
        const frozen = parts;
        const pathOf = () => this.pathOf(frozen);
        const argList = args;
        callRun = () => {
          const path = pathOf();
          const r = this.host.call(path, this.evalList(argList));
          if (r === undefined) throw new TspError(-286, `TSP Runtime error at line 1: attempt to call a nil value (field '${path}')`);
          return r;
        };
        parts = [];
      } else break;
    }
    if (callRun) {
      const run = callRun;
      return { kind: 'call', run, ev: () => { const r = run(); return { value: r[0] ?? null, multi: r }; } };
    }
    const frozen = parts;
    return { kind: 'path', path: () => this.pathOf(frozen), ev: () => ({ path: this.pathOf(frozen) }) };
  }

  private pathOf(parts: (string | (() => Ev))[]): string {
    return parts.map((p) => (typeof p === 'string' ? p : `[${String(this.resolve(p()))}]`)).join('.').replace(/\.\[/g, '[');
  }

  private simple(): () => Ev {
    const t = this.peek();
    if (t.k === 'num') {
      this.p++;
      return () => ({ value: t.v });
    }
    if (t.k === 'str') {
      this.p++;
      return () => ({ value: t.v });
    }
    if (this.isOp('{')) {
      this.p++;
      const items: (() => Ev)[] = [];
      while (!this.isOp('}')) {
        items.push(this.expr());
        if (this.isOp(',') || this.isOp(';')) this.p++;
        else if (!this.isOp('}')) throw this.syntax("'}' expected");
      }
      this.p++;
      return () => ({ value: items.map((e) => this.resolve(e())) });
    }
    throw this.syntax('unexpected symbol');
  }

  // expr := term {('+'|'-') term};  term := unary {('*'|'/') unary};  unary := '-' unary | primary
  private expr(): () => Ev {
    let left = this.term();
    while (this.isOp('+') || this.isOp('-')) {
      const op = (this.peek() as { v: string }).v;
      this.p++;
      const l = left;
      const r = this.term();
      left = () => ({ value: this.arith(op, l(), r()) });
    }
    return left;
  }
  private term(): () => Ev {
    let left = this.unary();
    while (this.isOp('*') || this.isOp('/')) {
      const op = (this.peek() as { v: string }).v;
      this.p++;
      const l = left;
      const r = this.unary();
      left = () => ({ value: this.arith(op, l(), r()) });
    }
    return left;
  }
  private unary(): () => Ev {
    if (this.isOp('-')) {
      this.p++;
      const e = this.unary();
      return () => ({ value: this.arith('-', { value: 0 }, e()) });
    }
    const t = this.peek();
    if (t.k === 'name') {
      if (t.v === 'nil' || t.v === 'true' || t.v === 'false') {
        this.p++;
        const v = t.v === 'nil' ? null : t.v === 'true';
        return () => ({ value: v });
      }
      const pre = this.prefix();
      return pre.ev;
    }
    if (this.isOp('(')) {
      this.p++;
      const e = this.expr();
      this.expectOp(')');
      return () => ({ value: this.resolve(e()) });
    }
    return this.simple();
  }
  private arith(op: string, a: Ev, b: Ev): number {
    const x = this.resolve(a);
    const y = this.resolve(b);
    if (typeof x !== 'number' || typeof y !== 'number')
      throw new TspError(-286, 'TSP Runtime error at line 1: attempt to perform arithmetic on a non-number value');
    return op === '+' ? x + y : op === '-' ? x - y : op === '*' ? x * y : x / y;
  }
}

/** Lua `print` formatting with the 2600B's default format.asciiprecision (6 digits): 1.00000e-03. */
export function tspFormat(v: TspValue): string {
  if (v === null) return 'nil';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : v < 0 ? '-inf' : 'nan';
    const [m, e] = v.toExponential(5).split('e');
    const n = Number(e);
    return `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  if (Array.isArray(v)) return `table: 0x${(v.length * 2654435761 >>> 0).toString(16)}`;
  return `${v.ref}`;
}

// A small Go text/template engine with the Helm/Sprig functions the saiki chart uses.
//
// It exists because helm cannot be installed on the machines this project runs on. It follows Go's semantics for
// the subset it implements, including the traps a chart author can fall into, so the offline check sees what helm
// would render:
//   - numbers from values files are float64 (helm parses YAML through JSON): they print as Go's %v does
//     (1000000 -> "1e+06"); the `int` function and integer literals give ints (BigInt here), and comparing an int
//     with a float64 is an error, as it is in Go;
//   - `default` treats false, 0, "", empty lists and maps as unset (so `default true .x` is true when .x is false);
//   - a missing map key is nil (helm prints it as ""), a field of nil is an error;
//   - `{{-` and `-}}` trim all adjacent white space; `and`/`or` short-circuit and return an operand.
// Anything outside the subset fails loudly ("not supported by the offline renderer"), never silently.

import crypto from 'node:crypto';
import YAML from 'yaml';

export class TemplateError extends Error {}

// ---------------------------------------------------------------------------------------------------------------
// Values

/** Marks objects that behave like Go structs (.Release, .Chart): a missing field is an error, not nil. */
export const STRUCT = Symbol('struct');

export function struct(obj) {
  Object.defineProperty(obj, STRUCT, { value: true, enumerable: false });
  return obj;
}

const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function goKind(v) {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'slice';
  if (v[STRUCT]) return 'struct';
  return 'map';
}

/** Go's template truth: false, 0, nil, and empty strings, slices and maps are false. */
export function truth(v) {
  switch (goKind(v)) {
    case 'nil': return false;
    case 'bool': return v;
    case 'int': return v !== 0n;
    case 'float64': return v !== 0;
    case 'string': return v.length > 0;
    case 'slice': return v.length > 0;
    case 'map': return Object.keys(v).length > 0;
    default: return true;
  }
}

/** Go's %v of a float64: shortest digits, exponent form when the exponent is < -4 or >= 6 (e.g. 1e+06). */
export function goFloat(f) {
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mant, expText] = f.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  let out;
  if (exp >= 0) {
    const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1);
    out = frac ? `${whole}.${frac}` : whole;
  } else {
    out = `0.${'0'.repeat(-exp - 1)}${digits}`;
  }
  return neg ? `-${out}` : out;
}

/** Go's %v (helm prints a nil, "<no value>", as ""). */
export function goString(v) {
  switch (goKind(v)) {
    case 'nil': return '';
    case 'string': return v;
    case 'bool': return v ? 'true' : 'false';
    case 'int': return v.toString();
    case 'float64': return goFloat(v);
    case 'slice': return `[${v.map(goString).join(' ')}]`;
    default: return `map[${Object.keys(v).sort().map((k) => `${k}:${goString(v[k])}`).join(' ')}]`;
  }
}

/** Go's strconv.Quote for the characters a chart meets. */
export function goQuote(s) {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Sprig's toYaml: keys sorted (helm marshals through JSON), no trailing newline. */
export function toYaml(v) {
  if (v === null || v === undefined) return 'null';
  const plain = JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x)));
  return YAML.stringify(plain, { version: '1.1', sortMapEntries: true, lineWidth: 0, indentSeq: false }).replace(/\n$/, '');
}

function toInt(v) {
  switch (goKind(v)) {
    case 'int': return v;
    case 'float64': return BigInt(Math.trunc(v));
    case 'bool': return v ? 1n : 0n;
    case 'string': {
      const t = v.trim();
      if (/^[+-]?(0x[0-9a-f]+|0o?[0-7]+|0b[01]+|[0-9]+)$/i.test(t)) {
        try { return BigInt(t); } catch { return 0n; }
      }
      return 0n; // cast.ToInt ignores parse errors
    }
    default: return 0n;
  }
}

function compareValues(name, a, b) {
  const ka = goKind(a);
  const kb = goKind(b);
  if (ka !== kb) throw new TemplateError(`${name}: incompatible types for comparison (${ka} and ${kb})`);
  if (!['int', 'float64', 'string', 'bool'].includes(ka)) throw new TemplateError(`${name}: invalid type for comparison (${ka})`);
  if (ka === 'bool' && name !== 'eq' && name !== 'ne') throw new TemplateError(`${name}: invalid type for comparison (bool)`);
  return a < b ? -1 : a > b ? 1 : 0;
}

function printf(format, args) {
  let i = 0;
  return format.replace(/%([-+# 0]*\d*(?:\.\d+)?)([%sdvqtT])/g, (_m, flags, verb) => {
    if (verb === '%') return '%';
    if (flags) throw new TemplateError(`printf: flags "${flags}" are not supported by the offline renderer`);
    if (i >= args.length) return `%!${verb}(MISSING)`;
    const a = args[i++];
    switch (verb) {
      case 's': case 'v': case 't': return goString(a);
      case 'd': {
        if (goKind(a) !== 'int') return `%!d(${goKind(a)}=${goString(a)})`;
        return a.toString();
      }
      case 'q': return goQuote(goString(a));
      case 'T': return goKind(a) === 'map' ? 'map[string]interface {}' : goKind(a) === 'slice' ? '[]interface {}' : goKind(a);
      default: throw new TemplateError(`printf: verb %${verb} is not supported`);
    }
  });
}

function needString(fn, v) {
  if (typeof v !== 'string') throw new TemplateError(`${fn}: wrong type for value; expected string; got ${goKind(v)}`);
  return v;
}

function needInt(fn, v) {
  const k = goKind(v);
  if (k === 'int') return Number(v);
  if (k === 'float64') return Math.trunc(v); // sprig's int-taking functions use cast.ToInt
  throw new TemplateError(`${fn}: expected a number, got ${k}`);
}

const indentText = (n, s) => {
  const pad = ' '.repeat(n);
  return pad + s.replaceAll('\n', `\n${pad}`);
};

/** Functions; `lazy` ones get thunks (Go's and/or short-circuit). Each gets (ctx, ...args). */
const FUNCS = {
  // Go builtins
  and: { lazy: true, fn: (_c, ...args) => { let v = true; for (const a of args) { v = a(); if (!truth(v)) return v; } return v; } },
  or: { lazy: true, fn: (_c, ...args) => { let v = false; for (const a of args) { v = a(); if (truth(v)) return v; } return v; } },
  not: { fn: (_c, v) => !truth(v) },
  eq: { fn: (_c, a, ...rest) => rest.some((b) => compareValues('eq', a, b) === 0) },
  ne: { fn: (_c, a, b) => compareValues('ne', a, b) !== 0 },
  lt: { fn: (_c, a, b) => compareValues('lt', a, b) < 0 },
  le: { fn: (_c, a, b) => compareValues('le', a, b) <= 0 },
  gt: { fn: (_c, a, b) => compareValues('gt', a, b) > 0 },
  ge: { fn: (_c, a, b) => compareValues('ge', a, b) >= 0 },
  len: {
    fn: (_c, v) => {
      const k = goKind(v);
      if (k === 'string' || k === 'slice') return BigInt(v.length);
      if (k === 'map') return BigInt(Object.keys(v).length);
      throw new TemplateError(`len of type ${k}`);
    },
  },
  index: {
    fn: (_c, v, ...keys) => {
      let cur = v;
      for (const k of keys) {
        if (Array.isArray(cur)) {
          const i = Number(toInt(k));
          if (i < 0 || i >= cur.length) throw new TemplateError(`index out of range: ${i}`);
          cur = cur[i];
        } else if (isMap(cur)) {
          cur = Object.hasOwn(cur, k) ? cur[k] : null;
        } else {
          throw new TemplateError(`can't index item of type ${goKind(cur)}`);
        }
      }
      return cur;
    },
  },
  print: {
    fn: (_c, ...args) => args.map((a, i) => (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string' ? ' ' : '') + goString(a)).join(''),
  },
  printf: { fn: (_c, format, ...args) => printf(needString('printf', format), args) },
  // Helm
  include: { fn: (c, name, data) => c.engine.execute(needString('include', name), data) },
  required: {
    fn: (_c, msg, v) => {
      if (v === null || v === undefined || v === '') throw new TemplateError(msg);
      return v;
    },
  },
  fail: { fn: (_c, msg) => { throw new TemplateError(goString(msg)); } },
  toYaml: { fn: (_c, v) => toYaml(v) },
  // Sprig
  default: { fn: (_c, d, ...given) => (given.length === 0 || !truth(given[0]) ? d : given[0]) },
  empty: { fn: (_c, v) => !truth(v) },
  ternary: { fn: (_c, a, b, cond) => (truth(cond) ? a : b) },
  quote: { fn: (_c, ...args) => args.filter((a) => a !== null && a !== undefined).map((a) => goQuote(goString(a))).join(' ') },
  squote: { fn: (_c, ...args) => args.filter((a) => a !== null && a !== undefined).map((a) => `'${goString(a)}'`).join(' ') },
  toString: { fn: (_c, v) => goString(v) },
  int: { fn: (_c, v) => toInt(v) },
  int64: { fn: (_c, v) => toInt(v) },
  indent: { fn: (_c, n, s) => indentText(needInt('indent', n), needString('indent', s)) },
  nindent: { fn: (_c, n, s) => `\n${indentText(needInt('nindent', n), needString('nindent', s))}` },
  trunc: {
    fn: (_c, n, s) => {
      const c = needInt('trunc', n);
      needString('trunc', s);
      if (c < 0) return s.length + c < 0 ? s : s.slice(s.length + c);
      return s.length > c ? s.slice(0, c) : s;
    },
  },
  trimSuffix: { fn: (_c, suffix, s) => (needString('trimSuffix', s).endsWith(suffix) && suffix !== '' ? s.slice(0, s.length - suffix.length) : s) },
  trimPrefix: { fn: (_c, prefix, s) => (needString('trimPrefix', s).startsWith(prefix) ? s.slice(prefix.length) : s) },
  trim: { fn: (_c, s) => needString('trim', s).trim() },
  replace: { fn: (_c, from, to, s) => needString('replace', s).replaceAll(from, to) },
  contains: { fn: (_c, sub, s) => needString('contains', s).includes(sub) },
  hasPrefix: { fn: (_c, p, s) => needString('hasPrefix', s).startsWith(p) },
  lower: { fn: (_c, s) => needString('lower', s).toLowerCase() },
  upper: { fn: (_c, s) => needString('upper', s).toUpperCase() },
  b64enc: { fn: (_c, s) => Buffer.from(needString('b64enc', s), 'utf8').toString('base64') },
  sha256sum: { fn: (_c, s) => crypto.createHash('sha256').update(needString('sha256sum', s), 'utf8').digest('hex') },
  until: { fn: (_c, n) => Array.from({ length: Math.max(0, needInt('until', n)) }, (_x, i) => BigInt(i)) },
  hasKey: { fn: (_c, m, k) => isMap(m) && Object.hasOwn(m, k) },
  kindIs: { fn: (_c, kind, v) => { const k = goKind(v); return kind === (k === 'nil' ? 'invalid' : k); } },
};

export const SUPPORTED_FUNCTIONS = Object.keys(FUNCS).sort();

// ---------------------------------------------------------------------------------------------------------------
// Lexing: text and {{ actions }}, with Go's trim markers and comments

function lex(src, file) {
  const items = [];
  let pos = 0;
  let line = 1; // line of `counted`
  let counted = 0;
  const lineAt = (p) => {
    for (; counted < p; counted++) if (src[counted] === '\n') line++;
    return line;
  };
  while (pos < src.length) {
    const open = src.indexOf('{{', pos);
    if (open < 0) {
      items.push({ type: 'text', value: src.slice(pos) });
      break;
    }
    items.push({ type: 'text', value: src.slice(pos, open) });
    const actionLine = lineAt(open);
    let i = open + 2;
    let trimLeft = false;
    if (src[i] === '-' && /[ \t\r\n]/.test(src[i + 1] ?? '')) {
      trimLeft = true;
      i += 2;
    }
    // Find the closing delimiter outside string literals.
    let end = -1;
    let j = i;
    while (j < src.length) {
      const ch = src[j];
      if (src.startsWith('/*', j) && src.slice(i, j).trim() === '') {
        const close = src.indexOf('*/', j + 2);
        if (close < 0) throw new TemplateError(`${file}:${actionLine}: unclosed comment`);
        j = close + 2;
        continue;
      }
      if (ch === '"' || ch === "'") {
        j++;
        while (j < src.length && src[j] !== ch) {
          if (src[j] === '\\') j++;
          if (src[j] === '\n') throw new TemplateError(`${file}:${actionLine}: unterminated quoted string`);
          j++;
        }
        j++;
        continue;
      }
      if (ch === '`') {
        const close = src.indexOf('`', j + 1);
        if (close < 0) throw new TemplateError(`${file}:${actionLine}: unterminated raw string`);
        j = close + 1;
        continue;
      }
      if (src.startsWith('}}', j)) {
        end = j;
        break;
      }
      j++;
    }
    if (end < 0) throw new TemplateError(`${file}:${actionLine}: unclosed action`);
    let code = src.slice(i, end);
    let trimRight = false;
    if (/[ \t\r\n]-$/.test(code)) {
      trimRight = true;
      code = code.slice(0, -1);
    }
    const isComment = /^\s*\/\*[\s\S]*\*\/\s*$/.test(code);
    if (isComment && !trimLeft && !/^\/\*/.test(code)) throw new TemplateError(`${file}:${actionLine}: comment must start right after "{{"`);
    items.push({ type: isComment ? 'comment' : 'action', code, line: actionLine, trimLeft, trimRight });
    pos = end + 2;
  }
  // Apply the trim markers to the neighbouring text.
  for (let k = 0; k < items.length; k++) {
    const it = items[k];
    if (it.type === 'text') continue;
    if (it.trimLeft && items[k - 1]?.type === 'text') items[k - 1].value = items[k - 1].value.replace(/[ \t\r\n]+$/, '');
    if (it.trimRight && items[k + 1]?.type === 'text') items[k + 1].value = items[k + 1].value.replace(/^[ \t\r\n]+/, '');
  }
  return items.filter((it) => it.type !== 'comment' && !(it.type === 'text' && it.value === ''));
}

// ---------------------------------------------------------------------------------------------------------------
// Tokens of an action

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);

function tokenize(code, where) {
  const toks = [];
  let i = 0;
  const err = (m) => new TemplateError(`${where}: ${m}`);
  // `glued`: the token follows the previous one without white space (".a.b", "$x.y", "(...).z" chain fields).
  const push = (tok, start) => toks.push({ ...tok, glued: start > 0 && !/\s/.test(code[start - 1]) });
  while (i < code.length) {
    const ch = code[i];
    if (/\s/.test(ch)) { i++; continue; }
    if (ch === '(' || ch === ')' || ch === '|' || ch === ',') { toks.push({ t: ch }); i++; continue; }
    if (code.startsWith(':=', i)) { toks.push({ t: ':=' }); i += 2; continue; }
    if (ch === '=') { toks.push({ t: '=' }); i++; continue; }
    if (ch === '"') {
      let j = i + 1;
      while (j < code.length && code[j] !== '"') { if (code[j] === '\\') j++; j++; }
      if (j >= code.length) throw err('unterminated string');
      toks.push({ t: 'str', v: JSON.parse(code.slice(i, j + 1).replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1')) });
      i = j + 1;
      continue;
    }
    if (ch === '`') {
      const j = code.indexOf('`', i + 1);
      toks.push({ t: 'str', v: code.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    if (ch === "'") throw err('character constants are not supported by the offline renderer');
    const num = /^[+-]?(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(code.slice(i));
    if (num && (ch !== '+' && ch !== '-' || /\d/.test(code[i + 1] ?? ''))) {
      const text = num[0];
      toks.push({ t: 'num', v: /[.eE]/.test(text) && !/^[+-]?0x/i.test(text) ? Number(text) : BigInt(text) });
      i += text.length;
      continue;
    }
    if (ch === '$') {
      const m = /^\$[A-Za-z0-9_]*/.exec(code.slice(i));
      toks.push({ t: 'var', v: m[0] });
      i += m[0].length;
      continue;
    }
    if (ch === '.') {
      const m = /^\.[A-Za-z_][A-Za-z0-9_]*/.exec(code.slice(i));
      if (m) { push({ t: 'field', v: m[0].slice(1) }, i); i += m[0].length; continue; }
      toks.push({ t: 'dot' });
      i++;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(code.slice(i));
    if (id) {
      const w = id[0];
      if (w === 'true' || w === 'false') toks.push({ t: 'bool', v: w === 'true' });
      else if (w === 'nil') toks.push({ t: 'nil' });
      else if (KEYWORDS.has(w)) toks.push({ t: 'kw', v: w });
      else toks.push({ t: 'ident', v: w });
      i += w.length;
      continue;
    }
    throw err(`unexpected "${ch}"`);
  }
  return toks;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing

class Parser {
  constructor(toks, where) {
    this.toks = toks;
    this.i = 0;
    this.where = where;
  }
  err(m) { return new TemplateError(`${this.where}: ${m}`); }
  peek(o = 0) { return this.toks[this.i + o]; }
  next() { return this.toks[this.i++]; }
  done() { return this.i >= this.toks.length; }

  /** [$a[, $b] :=|=] command { | command } */
  pipeline(allowDecl = true, allowTwo = false) {
    const decl = [];
    let assign = false;
    if (allowDecl && this.peek()?.t === 'var') {
      const save = this.i;
      const vars = [this.next().v];
      if (allowTwo && this.peek()?.t === ',' && this.peek(1)?.t === 'var') { this.next(); vars.push(this.next().v); }
      const op = this.peek()?.t;
      if (op === ':=' || op === '=') {
        this.next();
        decl.push(...vars);
        assign = op === '=';
      } else {
        this.i = save;
      }
    }
    const cmds = [this.command()];
    while (this.peek()?.t === '|') {
      this.next();
      cmds.push(this.command());
    }
    return { decl, assign, cmds };
  }

  command() {
    const args = [];
    while (!this.done() && this.peek().t !== '|' && this.peek().t !== ')') args.push(this.operand());
    if (args.length === 0) throw this.err('missing command');
    return { args };
  }

  operand() {
    const tok = this.next();
    let node;
    switch (tok.t) {
      case 'str': node = { k: 'lit', v: tok.v }; break;
      case 'num': node = { k: 'lit', v: tok.v }; break;
      case 'bool': node = { k: 'lit', v: tok.v }; break;
      case 'nil': node = { k: 'lit', v: null }; break;
      case 'dot': node = { k: 'dot' }; break;
      case 'field': {
        const chain = [tok.v];
        while (this.peek()?.t === 'field' && this.peek().glued) chain.push(this.next().v);
        return { k: 'field', base: { k: 'dot' }, chain };
      }
      case 'var': node = { k: 'var', name: tok.v }; break;
      case 'ident':
        if (!FUNCS[tok.v]) throw this.err(`function "${tok.v}" is not supported by the offline renderer (helm/.check/lib/gotemplate.mjs)`);
        return { k: 'fn', name: tok.v };
      case '(': {
        const p = this.pipeline(false);
        if (this.next()?.t !== ')') throw this.err('unclosed left paren');
        node = { k: 'pipe', p };
        break;
      }
      default: throw this.err(`unexpected ${tok.t}${tok.v !== undefined ? ` "${tok.v}"` : ''} in operand`);
    }
    if (this.peek()?.t === 'field' && this.peek().glued) {
      if (node.k === 'lit') throw this.err('a field cannot follow a constant');
      const chain = [];
      while (this.peek()?.t === 'field' && this.peek().glued) chain.push(this.next().v);
      return { k: 'field', base: node, chain };
    }
    return node;
  }
}

function parseTemplate(src, file, defines) {
  const items = lex(src, file);
  let k = 0;
  const where = (it) => `${file}:${it.line}`;

  // Returns { nodes, stop } where stop is the action that ended the list ('end' or 'else').
  function list(stopAt) {
    const nodes = [];
    while (k < items.length) {
      const it = items[k++];
      if (it.type === 'text') { nodes.push({ k: 'text', v: it.value }); continue; }
      const toks = tokenize(it.code, where(it));
      if (toks.length === 0) throw new TemplateError(`${where(it)}: missing value for command`);
      const p = new Parser(toks, where(it));
      const head = toks[0];
      if (head.t === 'kw') {
        p.next();
        switch (head.v) {
          case 'end':
          case 'else':
            if (!stopAt) throw new TemplateError(`${where(it)}: unexpected {{${head.v}}}`);
            return { nodes, stop: { kw: head.v, parser: p, it } };
          case 'if':
          case 'with':
          case 'range': {
            const node = { k: head.v, branches: [], elseNodes: null, line: it.line, file };
            let pipe = p.pipeline(true, head.v === 'range');
            if (!p.done()) throw p.err(`unexpected tokens after ${head.v} pipeline`);
            for (;;) {
              const body = list(true);
              node.branches.push({ pipe, nodes: body.nodes });
              const stop = body.stop;
              if (stop.kw === 'end') { if (!stop.parser.done()) throw stop.parser.err('unexpected tokens after end'); break; }
              // else, else if, else with
              const nxt = stop.parser.peek();
              if (nxt && nxt.t === 'kw' && (nxt.v === 'if' || nxt.v === 'with') && head.v !== 'range') {
                if (nxt.v !== head.v) throw stop.parser.err(`{{else ${nxt.v}}} inside {{${head.v}}} is not supported`);
                stop.parser.next();
                pipe = stop.parser.pipeline(true);
                continue;
              }
              if (!stop.parser.done()) throw stop.parser.err('unexpected tokens after else');
              const elseBody = list(true);
              if (elseBody.stop.kw !== 'end') throw new TemplateError(`${where(elseBody.stop.it)}: expected end after else`);
              node.elseNodes = elseBody.nodes;
              break;
            }
            nodes.push(node);
            continue;
          }
          case 'define': {
            const name = p.next();
            if (name?.t !== 'str' || !p.done()) throw p.err('define needs one string name');
            const body = list(true);
            if (body.stop.kw !== 'end') throw new TemplateError(`${where(body.stop.it)}: unexpected else in define`);
            if (defines.has(name.v)) throw p.err(`template "${name.v}" is defined twice`);
            defines.set(name.v, { nodes: body.nodes, file });
            continue;
          }
          case 'template': {
            const name = p.next();
            if (name?.t !== 'str') throw p.err('template needs a string name');
            const pipe = p.done() ? null : p.pipeline(false);
            nodes.push({ k: 'template', name: name.v, pipe, line: it.line, file });
            continue;
          }
          default:
            throw p.err(`{{${head.v}}} is not supported by the offline renderer`);
        }
      }
      const pipe = p.pipeline(true);
      if (!p.done()) throw p.err(`unexpected "${p.peek().t}" in command`);
      nodes.push({ k: 'action', pipe, line: it.line, file });
    }
    if (stopAt) throw new TemplateError(`${file}: unexpected EOF (missing {{end}})`);
    return { nodes, stop: null };
  }

  return list(false).nodes;
}

// ---------------------------------------------------------------------------------------------------------------
// Execution

class Scope {
  constructor(root) { this.vars = [['$', root]]; }
  mark() { return this.vars.length; }
  pop(mark) { this.vars.length = mark; }
  push(name, v) { this.vars.push([name, v]); }
  set(name, v) {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i][0] === name) { this.vars[i][1] = v; return; }
    }
    throw new TemplateError(`undefined variable: ${name}`);
  }
  get(name) {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i][0] === name) return this.vars[i][1];
    throw new TemplateError(`undefined variable: ${name}`);
  }
}

export class Engine {
  constructor() {
    this.defines = new Map();
    this.depth = 0;
  }

  /** Parses a file; its top level becomes a template named after the file (as helm names them). */
  add(name, src) {
    const nodes = parseTemplate(src, name, this.defines);
    if (this.defines.has(name)) throw new TemplateError(`template "${name}" is defined twice`);
    this.defines.set(name, { nodes, file: name });
  }

  /** Renders a named template (a file or a define) with dot = data. */
  execute(name, data) {
    const t = this.defines.get(name);
    if (!t) throw new TemplateError(`template: no template "${name}" associated with template "gotpl"`);
    if (++this.depth > 100) throw new TemplateError(`template "${name}": include recursion too deep`);
    try {
      const out = [];
      this.run(t.nodes, data, new Scope(data), out);
      return out.join('');
    } finally {
      this.depth--;
    }
  }

  run(nodes, dot, scope, out) {
    for (const n of nodes) {
      try {
        this.runNode(n, dot, scope, out);
      } catch (e) {
        if (e instanceof TemplateError && !e.located && n.file) {
          e.message = `${n.file}:${n.line}: executing "${n.file}": ${e.message}`;
          e.located = true;
        }
        throw e;
      }
    }
  }

  runNode(n, dot, scope, out) {
    switch (n.k) {
      case 'text': out.push(n.v); return;
      case 'action': {
        const v = this.pipe(n.pipe, dot, scope);
        if (n.pipe.decl.length === 0) out.push(goString(v));
        return;
      }
      case 'if':
      case 'with': {
        const mark = scope.mark();
        for (const br of n.branches) {
          const v = this.pipe(br.pipe, dot, scope);
          if (truth(v)) {
            this.run(br.nodes, n.k === 'with' ? v : dot, scope, out);
            scope.pop(mark);
            return;
          }
        }
        if (n.elseNodes) this.run(n.elseNodes, dot, scope, out);
        scope.pop(mark);
        return;
      }
      case 'range': {
        const br = n.branches[0];
        const mark = scope.mark();
        const v = this.pipe({ ...br.pipe, decl: [] }, dot, scope);
        let entries;
        const kind = goKind(v);
        if (kind === 'slice') entries = v.map((x, i) => [BigInt(i), x]);
        else if (kind === 'map') entries = Object.keys(v).sort().map((key) => [key, v[key]]);
        else if (kind === 'nil') entries = [];
        else throw new TemplateError(`range can't iterate over ${goString(v)}`);
        if (entries.length === 0) {
          if (n.elseNodes) this.run(n.elseNodes, dot, scope, out);
          scope.pop(mark);
          return;
        }
        for (const [key, elem] of entries) {
          const inner = scope.mark();
          if (br.pipe.decl.length === 1) scope.push(br.pipe.decl[0], elem);
          if (br.pipe.decl.length === 2) { scope.push(br.pipe.decl[0], key); scope.push(br.pipe.decl[1], elem); }
          this.run(br.nodes, elem, scope, out);
          scope.pop(inner);
        }
        scope.pop(mark);
        return;
      }
      case 'template': {
        const data = n.pipe ? this.pipe(n.pipe, dot, scope) : null;
        out.push(this.execute(n.name, data));
        return;
      }
      default: throw new TemplateError(`internal: node ${n.k}`);
    }
  }

  pipe(p, dot, scope) {
    let v;
    let first = true;
    for (const cmd of p.cmds) {
      v = this.command(cmd, dot, scope, first ? undefined : { v });
      first = false;
    }
    if (p.decl.length > 0) {
      if (p.assign) scope.set(p.decl[0], v);
      else scope.push(p.decl[0], v);
    }
    return v;
  }

  command(cmd, dot, scope, piped) {
    const [head, ...rest] = cmd.args;
    if (head.k === 'fn') {
      const f = FUNCS[head.name];
      const argNodes = rest;
      let args;
      if (f.lazy) {
        args = argNodes.map((a) => () => this.operand(a, dot, scope));
        if (piped) args.push(() => piped.v);
      } else {
        args = argNodes.map((a) => this.operand(a, dot, scope));
        if (piped) args.push(piped.v);
      }
      return f.fn({ engine: this }, ...args);
    }
    if (rest.length > 0 || piped) {
      throw new TemplateError(`can't give argument to non-function ${describe(head)}`);
    }
    return this.operand(head, dot, scope);
  }

  operand(node, dot, scope) {
    switch (node.k) {
      case 'lit': return node.v;
      case 'dot': return dot;
      case 'var': return scope.get(node.name);
      case 'pipe': return this.pipe(node.p, dot, scope);
      case 'fn': return FUNCS[node.name].fn({ engine: this });
      case 'field': {
        let cur = this.operand(node.base, dot, scope);
        const walked = [];
        for (const f of node.chain) {
          if (cur === null || cur === undefined) {
            throw new TemplateError(`nil pointer evaluating interface {}.${f}${walked.length ? ` (after .${walked.join('.')})` : ''}`);
          }
          if (!isMap(cur)) throw new TemplateError(`can't evaluate field ${f} in type ${goKind(cur)}`);
          if (cur[STRUCT]) {
            if (!Object.hasOwn(cur, f)) throw new TemplateError(`can't evaluate field ${f} in type struct`);
          }
          cur = Object.hasOwn(cur, f) ? cur[f] : null;
          walked.push(f);
        }
        return cur;
      }
      default: throw new TemplateError(`internal: operand ${node.k}`);
    }
  }
}

function describe(node) {
  if (node.k === 'field') return `.${node.chain.join('.')}`;
  if (node.k === 'var') return node.name;
  return node.k;
}

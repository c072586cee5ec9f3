// Self-test of the offline renderer against Go text/template + Sprig behaviour (expected outputs are what helm
// prints). Run: node --test helm/.check/lib/
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine, goFloat, struct, TemplateError } from './gotemplate.mjs';

function render(src, data, extra = {}) {
  const e = new Engine();
  for (const [name, text] of Object.entries(extra)) e.add(name, text);
  e.add('t', src);
  return e.execute('t', data);
}

test('trim markers remove all adjacent white space', () => {
  assert.equal(render('a  \n  {{- "b" -}}  \n c', {}), 'abc');
  assert.equal(render('a {{ "b" }} c', {}), 'a b c');
  assert.equal(render('x\n{{- /* comment */}}\ny', {}), 'x\ny');
  assert.equal(render('x\n{{- /* comment */ -}}\ny', {}), 'xy');
  assert.equal(render('{{ 3 }}{{-3}}', {}), '3-3'); // "{{-3" is a number, not a trim marker
});

test('numbers from values are float64 and print like Go', () => {
  assert.equal(render('{{ .a }} {{ .b }} {{ .b | quote }} {{ .b | int }} {{ .c }}', { a: 999999, b: 1000000, c: 0.5 }), '999999 1e+06 "1e+06" 1000000 0.5');
  assert.equal(goFloat(1234567), '1.234567e+06');
  assert.equal(goFloat(0.00001), '1e-05');
  assert.equal(goFloat(-12.25), '-12.25');
  assert.equal(goFloat(30), '30');
});

test('comparing an int with a float64 fails as in Go', () => {
  assert.throws(() => render('{{ if eq .a 1 }}x{{ end }}', { a: 1 }), /incompatible types for comparison/);
  assert.equal(render('{{ if eq (int .a) 1 }}x{{ end }}', { a: 1 }), 'x');
  assert.equal(render('{{ if le (int .a) (int .b) }}le{{ end }}', { a: 30, b: 30 }), 'le');
});

test('default treats false, 0 and "" as unset', () => {
  assert.equal(render('{{ default true .f }} {{ default 5 .z }} {{ default "d" .s }} {{ .n | default "x" }}', { f: false, z: 0, s: '' }), 'true 5 d x');
});

test('missing keys are empty, fields of nil fail, struct fields are checked', () => {
  assert.equal(render('[{{ .a.missing }}]', { a: {} }), '[]');
  assert.throws(() => render('{{ .a.missing.deeper }}', { a: {} }), /nil pointer evaluating interface \{\}\.deeper/);
  assert.throws(() => render('{{ .Chart.Nmae }}', { Chart: struct({ Name: 'x' }) }), /can't evaluate field Nmae/);
});

test('range over maps is sorted; variables scope and assign', () => {
  assert.equal(render('{{ range $k, $v := .m }}{{ $k }}={{ $v }};{{ end }}', { m: { b: '2', a: '1' } }), 'a=1;b=2;');
  assert.equal(render('{{ range $i, $v := .l }}{{ $i }}:{{ . }} {{ end }}', { l: ['x', 'y'] }), '0:x 1:y ');
  assert.equal(render('{{ range .l }}x{{ else }}empty{{ end }}', { l: [] }), 'empty');
  assert.equal(render('{{ $n := 1 }}{{ if .t }}{{ $n = 2 }}{{ end }}{{ $n }}', { t: true }), '2');
  assert.throws(() => render('{{ if .t }}{{ $m := 2 }}{{ end }}{{ $m }}', { t: true }), /undefined variable: \$m/);
  assert.equal(render('{{ range until 3 }}{{ . }}{{ end }}', {}), '012');
  assert.equal(render('{{ range .l }}{{ $.top }}{{ end }}', { l: [1, 2], top: 't' }), 'tt');
});

test('and/or short-circuit and return an operand', () => {
  assert.equal(render('{{ or .a .b "c" }}|{{ and .x .y }}', { a: '', b: 'b', x: 'x', y: '' }), 'b|');
  assert.equal(render('{{ if and .a .a.b }}yes{{ else }}no{{ end }}', { a: null }), 'no');
});

test('include, toYaml, nindent, quote, printf, trunc', () => {
  const helpers = { h: '{{- define "n" -}}{{ printf "%s-%s" .a .b | trunc 5 | trimSuffix "-" }}{{- end -}}' };
  assert.equal(render('name: {{ include "n" . }}', { a: 'abcd', b: 'ef' }, helpers), 'name: abcd');
  assert.equal(render('x:{{ toYaml .m | nindent 2 }}', { m: { b: [1, 'on'], a: { c: true } } }), 'x:\n  a:\n    c: true\n  b:\n  - 1\n  - "on"');
  assert.equal(render('{{ quote "a\\"b" }} {{ .v | toString }}', { v: true }), '"a\\"b" true');
  assert.equal(render('{{ printf "%d-%s" (len .l) "x" }}', { l: [1, 2] }), '2-x');
  assert.equal(render('{{ print "a" "b" }}|{{ print 1 2 }}|{{ "pw" | b64enc }}|{{ "x" | sha256sum | trunc 8 }}', {}), 'ab|1 2|cHc=|2d711642');
  assert.throws(() => render('{{ .n | b64enc }}', { n: 5 }), /b64enc: wrong type for value; expected string; got float64/);
});

test('unsupported functions and syntax fail loudly', () => {
  assert.throws(() => render('{{ tpl .x . }}', {}), /function "tpl" is not supported/);
  assert.throws(() => render('{{ if .a }}', { a: 1 }), /missing \{\{end\}\}/);
  assert.throws(() => render('{{ fail "stop here" }}', {}), (e) => e instanceof TemplateError && /t:1: .*stop here/.test(e.message));
});

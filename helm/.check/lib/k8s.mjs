// Kubernetes object validation, offline: kubernetes-models' compiled OpenAPI validators (types, required fields,
// enums), plus a strict unknown-field check, which those validators skip. The allowed fields of every object are
// read from the models' TypeScript declarations (one interface per API type), so the allow-lists come from the
// same OpenAPI schemas instead of being kept by hand; `kubeconform -strict` does the same on a machine with it.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeModules = path.resolve(here, '..', 'node_modules');
const modelsRoot = path.join(nodeModules, 'kubernetes-models');

/** Where the model of apiVersion/kind lives ("apps/v1" + "Deployment" -> kubernetes-models/apps/v1/Deployment). */
function modelPath(apiVersion, kind) {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !/^[A-Za-z0-9.]+(\/[A-Za-z0-9]+)?$/.test(apiVersion) || !/^[A-Za-z0-9]+$/.test(kind)) {
    return null;
  }
  const file = path.join(modelsRoot, apiVersion, `${kind}.js`);
  return fs.existsSync(file) ? file : null;
}

const modelCache = new Map();

/** Validates one object; returns a list of problems ("path: message"). */
export async function validateObject(obj) {
  const problems = [];
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return ['document is not a mapping'];
  const { apiVersion, kind } = obj;
  const file = modelPath(apiVersion, kind);
  if (!file) return [`unknown apiVersion/kind "${apiVersion}" "${kind}" (no such Kubernetes API type)`];
  let Model = modelCache.get(file);
  if (!Model) {
    const mod = await import(`kubernetes-models/${apiVersion}/${kind}`);
    Model = mod[kind];
    modelCache.set(file, Model);
  }
  try {
    new Model(obj).validate();
  } catch (e) {
    // Ajv's text: "data/spec/replicas must be integer, data/spec must have required property 'selector'".
    for (const part of String(e.message).split(/,\s*(?=data\b)|\n/)) {
      const m = /^data(\S*)\s+([\s\S]*)$/.exec(part.trim());
      problems.push(m ? `${dotted(m[1].split('/').slice(1).map((x) => x.replaceAll('~1', '/').replaceAll('~0', '~')))}: ${m[2]}` : part.trim());
    }
  }
  for (const p of unknownFields(obj, { ref: file.replace(/\.js$/, '.d.ts') }, [])) problems.push(p);
  return problems;
}

/** ["spec", "containers", "0", "name"] -> "spec.containers[0].name" (the document itself: "(document)"). */
export function dotted(segments) {
  let out = '';
  for (const s of segments) out += /^\d+$/.test(String(s)) ? `[${s}]` : /^[A-Za-z0-9_-]+$/.test(s) ? `${out ? '.' : ''}${s}` : `[${JSON.stringify(s)}]`;
  return out || '(document)';
}

// ---------------------------------------------------------------------------------------------------------------
// Declarations -> allowed fields

const declCache = new Map();

function resolveSpec(spec, fromFile) {
  if (spec.startsWith('.')) return path.resolve(path.dirname(fromFile), spec.replace(/\.js$/, '') + '.d.ts');
  return path.join(nodeModules, spec.replace(/\.js$/, '') + '.d.ts');
}

/** Parses a type expression of a property into { scalar } | { ref: file } | { array: t } | { map: t }. */
function parseType(expr, imports, file) {
  const t = expr.trim();
  let m;
  if ((m = /^\{\s*\[key: string\]:\s*([\s\S]+?);?\s*\}$/.exec(t))) return { map: parseType(m[1], imports, file) };
  if ((m = /^Array<([\s\S]+)>$/.exec(t))) return { array: parseType(m[1], imports, file) };
  if (/^I\w+\["[A-Za-z]+"\]$/.test(t)) return { scalar: true }; // apiVersion / kind literals
  if (/^IIoK8s\w+$/.test(t)) {
    const target = imports.get(t);
    if (!target) throw new Error(`${file}: type ${t} is not imported`);
    return { ref: target };
  }
  if (/^((string|number|boolean|any|object|unknown|null|"[^"]*")(\s*\|\s*)?)+$/.test(t)) return { scalar: true };
  throw new Error(`${file}: cannot read property type "${t}"`);
}

/** Fields of the interface declared in a .d.ts file: Map(name -> type), or null for a scalar alias. */
function declaration(file) {
  if (declCache.has(file)) return declCache.get(file);
  if (!fs.existsSync(file)) throw new Error(`missing declaration ${file}`);
  const src = fs.readFileSync(file, 'utf8').replace(/\/\*\*[\s\S]*?\*\//g, '');
  const imports = new Map();
  for (const m of src.matchAll(/import \{([^}]+)\} from "([^"]+)";/g)) {
    for (const name of m[1].split(',').map((s) => s.trim()).filter(Boolean)) imports.set(name, resolveSpec(m[2], file));
  }
  const head = /export interface (\w+)(?: extends [\w, ]+)? \{/.exec(src);
  let result = null;
  if (head) {
    // The body up to the matching brace.
    let depth = 1;
    let i = head.index + head[0].length;
    const start = i;
    for (; i < src.length && depth > 0; i++) {
      if (src[i] === '{') depth++;
      else if (src[i] === '}') depth--;
    }
    const body = src.slice(start, i - 1);
    result = new Map();
    let j = 0;
    while (j < body.length) {
      const pm = /^\s*"([^"]+)"\??:\s*/.exec(body.slice(j));
      if (!pm) {
        if (body.slice(j).trim() === '') break;
        throw new Error(`${file}: cannot read interface body near "${body.slice(j, j + 60)}"`);
      }
      j += pm[0].length;
      // The type runs to the ";" at brace depth 0.
      let d = 0;
      let k = j;
      for (; k < body.length; k++) {
        const ch = body[k];
        if (ch === '{' || ch === '<' || ch === '[') d++;
        else if (ch === '}' || ch === '>' || ch === ']') d--;
        else if (ch === ';' && d === 0) break;
      }
      result.set(pm[1], parseType(body.slice(j, k), imports, file));
      j = k + 1;
    }
  } else if (!/export type \w+ = /.test(src)) {
    throw new Error(`${file}: neither an interface nor a type alias`);
  }
  declCache.set(file, result);
  return result;
}

/** Paths of fields the API type does not have (what `kubeconform -strict` reports). */
export function unknownFields(value, type, at) {
  const out = [];
  if (value === null || value === undefined || type.scalar) return out;
  if (type.array) {
    if (Array.isArray(value)) value.forEach((v, i) => out.push(...unknownFields(v, type.array, [...at, String(i)])));
    return out;
  }
  if (type.map) {
    if (typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) out.push(...unknownFields(v, type.map, [...at, k]));
    }
    return out;
  }
  const fields = declaration(type.ref);
  if (fields === null || typeof value !== 'object' || Array.isArray(value)) return out; // scalar alias, or a type error the models report
  for (const [k, v] of Object.entries(value)) {
    const ft = fields.get(k);
    if (!ft) {
      out.push(`${dotted([...at, k])}: unknown field "${k}" (${path.basename(type.ref, '.d.ts')} has: ${[...fields.keys()].join(', ')})`);
      continue;
    }
    out.push(...unknownFields(v, ft, [...at, k]));
  }
  return out;
}

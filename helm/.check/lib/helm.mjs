// What `helm template` does, for one chart without dependencies: read the chart, merge values files over the
// chart's values as helm coalesces them, validate against values.schema.json, render every template, split the
// output into documents.

import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import YAML from 'yaml';
import { Engine, struct, TemplateError } from './gotemplate.mjs';

/**
 * YAML as Kubernetes and helm read it (sigs.k8s.io/yaml, i.e. go-yaml v2): YAML 1.1 booleans (yes/no/on/off),
 * timestamps stay strings, no sexagesimal numbers, duplicate keys are errors.
 */
export const YAML_OPTIONS = {
  version: '1.1',
  uniqueKeys: true,
  merge: true,
  customTags: (tags) => tags.filter((t) => t.format !== 'TIME' && t.tag !== 'tag:yaml.org,2002:timestamp'),
};

export class CheckError extends Error {
  constructor(stage, message) {
    super(message);
    this.stage = stage;
  }
}

/** Parses a YAML file holding one document; errors name the file and line. */
export function readYamlFile(file, label = file) {
  const doc = YAML.parseDocument(fs.readFileSync(file, 'utf8'), YAML_OPTIONS);
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new CheckError('yaml', `${label}:${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`);
  }
  return doc.toJS({ maxAliasCount: 100 });
}

const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Helm's coalescing of user values over chart defaults: maps merge deeply, anything else replaces, null deletes. */
export function coalesce(defaults, user) {
  const out = structuredClone(defaults ?? {});
  for (const [k, v] of Object.entries(user ?? {})) {
    if (v === null) delete out[k];
    else if (isMap(v) && isMap(out[k])) out[k] = coalesce(out[k], v);
    else out[k] = structuredClone(v);
  }
  return out;
}

/** Capitalized Chart.yaml fields, as helm exposes them under .Chart. */
function chartObject(meta) {
  const names = { apiVersion: 'APIVersion', appVersion: 'AppVersion', kubeVersion: 'KubeVersion' };
  const out = {};
  for (const [k, v] of Object.entries(meta)) out[names[k] ?? k[0].toUpperCase() + k.slice(1)] = v;
  for (const k of ['Name', 'Version', 'AppVersion', 'Description', 'Type', 'KubeVersion', 'APIVersion', 'Keywords', 'Home', 'Icon', 'Sources', 'Maintainers', 'Annotations', 'Dependencies', 'Deprecated']) {
    if (!(k in out)) out[k] = null;
  }
  return struct(out);
}

export function loadChart(dir) {
  const meta = readYamlFile(path.join(dir, 'Chart.yaml'), 'Chart.yaml');
  for (const k of ['apiVersion', 'name', 'version']) {
    if (!meta[k]) throw new CheckError('chart', `Chart.yaml: ${k} is required`);
  }
  if (meta.apiVersion !== 'v2') throw new CheckError('chart', 'Chart.yaml: apiVersion must be v2');
  if (meta.dependencies?.length) throw new CheckError('chart', 'Chart.yaml: dependencies are not supported by the offline check');
  const values = readYamlFile(path.join(dir, 'values.yaml'), 'values.yaml') ?? {};
  const schemaFile = path.join(dir, 'values.schema.json');
  const schema = fs.existsSync(schemaFile) ? JSON.parse(fs.readFileSync(schemaFile, 'utf8')) : null;
  const templatesDir = path.join(dir, 'templates');
  const templates = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else templates.push({ name: `${meta.name}/${path.relative(dir, full).split(path.sep).join('/')}`, text: fs.readFileSync(full, 'utf8') });
    }
  };
  walk(templatesDir);
  let validateValues = null;
  if (schema) {
    // strict: unknown keywords and ambiguous types in the schema itself are errors.
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    addFormats(ajv);
    try {
      validateValues = ajv.compile(schema);
    } catch (e) {
      throw new CheckError('schema', `values.schema.json: ${e.message}`);
    }
  }
  return { dir, meta, values, schema, validateValues, templates };
}

/** Merged values of a values file; schema errors become one CheckError naming each field. */
export function valuesFor(chart, userValues, label) {
  const merged = coalesce(chart.values, userValues ?? {});
  if (chart.validateValues && !chart.validateValues(merged)) {
    // A propertyNames failure comes with the nested error that says why; keep that one.
    const lines = chart.validateValues.errors.filter((e) => e.keyword !== 'propertyNames').map((e) => {
      const where = e.instancePath || '/';
      if (e.propertyName !== undefined) {
        return `${where} key "${e.propertyName}" is not allowed (${e.schemaPath.replace(/^#\/properties\//, '').replaceAll('/properties/', '.')})`;
      }
      const extra = e.keyword === 'additionalProperties' ? ` ("${e.params.additionalProperty}")` : e.keyword === 'enum' ? ` (${e.params.allowedValues.join(', ')})` : '';
      return `${where} ${e.message}${extra}`;
    });
    throw new CheckError('schema', `${label}: values do not match values.schema.json:\n  ${[...new Set(lines)].join('\n  ')}`);
  }
  return merged;
}

/** Renders the chart like `helm template <release> <chart> -n <namespace>`. */
export function renderChart(chart, values, { releaseName, namespace }) {
  const engine = new Engine();
  for (const t of chart.templates) {
    if (!/\.(ya?ml|tpl|txt)$/.test(t.name)) throw new CheckError('render', `${t.name}: unexpected file in templates/`);
    try {
      engine.add(t.name, t.text);
    } catch (e) {
      if (e instanceof TemplateError) throw new CheckError('render', `parse error: ${e.message}`);
      throw e;
    }
  }
  const top = (name) => struct({
    Values: values,
    Release: struct({ Name: releaseName, Namespace: namespace, Service: 'Helm', IsInstall: true, IsUpgrade: false, Revision: 1n }),
    Chart: chartObject(chart.meta),
    Template: struct({ Name: name, BasePath: `${chart.meta.name}/templates` }),
  });
  const manifests = [];
  let notes = '';
  for (const t of chart.templates) {
    const base = path.posix.basename(t.name);
    if (base.startsWith('_')) continue;
    let out;
    try {
      out = engine.execute(t.name, top(t.name));
    } catch (e) {
      if (e instanceof TemplateError) throw new CheckError('render', `execution error: ${e.message}`);
      throw e;
    }
    if (base === 'NOTES.txt') { notes = out; continue; }
    if (!/\.ya?ml$/.test(base)) continue;
    // helm splits on "---" lines and drops white-space-only documents.
    for (const part of out.split(/(?:^|\n)---[ \t]*(?=\n|$)/)) {
      if (part.trim() === '') continue;
      manifests.push({ source: t.name, text: part.replace(/^\n+/, '').replace(/\s+$/, '') + '\n' });
    }
  }
  return { manifests, notes };
}

/** The output `helm template` prints. */
export function manifestsText(manifests) {
  return manifests.map((m) => `---\n# Source: ${m.source}\n${m.text}`).join('');
}

/** Parses each rendered document; errors name the template and line. */
export function parseManifests(manifests) {
  const docs = [];
  for (const m of manifests) {
    const doc = YAML.parseDocument(m.text, YAML_OPTIONS);
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const line = e.linePos?.[0]?.line;
      const excerpt = line ? `\n    ${line}| ${m.text.split('\n')[line - 1]}` : '';
      throw new CheckError('yaml', `${m.source}: rendered YAML does not parse at line ${line ?? '?'}: ${e.message.split('\n')[0]}${excerpt}`);
    }
    const obj = doc.toJS();
    if (obj === null) continue;
    docs.push({ source: m.source, obj, manifest: m });
  }
  return docs;
}

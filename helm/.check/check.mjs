// Offline check of the saiki Helm chart (run through scripts/helm-check.sh, which installs what this needs).
//
//  1. values.yaml documents every value, and helm/saiki/README.md lists every value;
//  2. each helm/saiki/ci/*.yaml, merged over values.yaml as helm merges, matches values.schema.json;
//  3. the chart renders for it (release "saiki", namespace "data"), every document parses, is a known Kubernetes
//     API type, matches its OpenAPI schema with no unknown field, and the objects fit together (lib/assertions);
//  4. each bad-values/*.yaml is rejected, with the message its "# expect:" line names;
//  5. each mutation of a good rendering (lib/mutations; ci/default-values.yaml unless the mutation names another
//     ci file as its baseline) is rejected, so no check passes vacuously.
// Rendered manifests go to helm/.check/out/<values file>.yaml.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { assertManifests } from './lib/assertions.mjs';
import { CheckError, loadChart, manifestsText, parseManifests, readYamlFile, renderChart, valuesFor, YAML_OPTIONS } from './lib/helm.mjs';
import { validateObject } from './lib/k8s.mjs';
import { MUTATIONS } from './lib/mutations.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const helmDir = path.resolve(here, '..');
const chartDir = path.join(helmDir, 'saiki');
const outDir = path.join(here, 'out');
const badValuesDir = path.join(here, 'bad-values');
const RELEASE = { releaseName: 'saiki', namespace: 'data' };

// helm's install order, which `helm template` prints in.
const KIND_ORDER = ['Namespace', 'NetworkPolicy', 'ResourceQuota', 'LimitRange', 'PodDisruptionBudget', 'ServiceAccount', 'Secret', 'ConfigMap', 'Role', 'RoleBinding', 'Service', 'Deployment', 'HorizontalPodAutoscaler'];

const log = (msg) => console.log(`helm-check: ${msg}`);
const failures = [];
const failed = (where, msg) => failures.push(`${where}: ${msg}`);

/** Renders and checks one values file; returns { manifests, docs, problems } or throws CheckError. */
async function pipeline(chart, file, label) {
  const user = readYamlFile(file, label);
  if (user !== null && (typeof user !== 'object' || Array.isArray(user))) throw new CheckError('yaml', `${label}: must be a mapping`);
  const values = valuesFor(chart, user, label);
  const { manifests } = renderChart(chart, values, RELEASE);
  const docs = parseManifests(manifests);
  const kindRank = (d) => (KIND_ORDER.includes(d.obj?.kind) ? KIND_ORDER.indexOf(d.obj.kind) : KIND_ORDER.length);
  const ordered = [...docs].sort((a, b) => kindRank(a) - kindRank(b) || String(a.obj.metadata?.name).localeCompare(String(b.obj.metadata?.name)));
  const problems = await checkDocs(docs, values);
  return { manifests: ordered.map((d) => d.manifest), docs, problems, values };
}

async function checkDocs(docs, values) {
  const problems = [];
  for (const d of docs) {
    for (const p of await validateObject(d.obj)) problems.push(`${d.source}: ${d.obj?.kind}/${d.obj?.metadata?.name}: ${p}`);
  }
  const ctx = {
    namespace: RELEASE.namespace,
    existingSecret: values?.existingSecret ?? '',
    extraEnvNames: new Set((values?.extraEnv ?? []).map((e) => e.name)),
    allowOpenWrites: values?.api?.allowOpenWrites === true,
    networkPolicy: { enabled: values?.networkPolicy?.enabled === true, httpFrom: values?.networkPolicy?.httpFrom ?? [] },
    tls: { enabled: values?.tls?.enabled === true, secretName: values?.tls?.secretName ?? '' },
  };
  problems.push(...assertManifests(docs, ctx));
  return problems;
}

/** values.yaml: every leaf documented by its own comment or an ancestor's; README.md names every documented path. */
function checkDocumentation() {
  const text = fs.readFileSync(path.join(chartDir, 'values.yaml'), 'utf8');
  const doc = YAML.parseDocument(text, YAML_OPTIONS);
  const documented = [];
  const walk = (map, prefix, inherited) => {
    map.items.forEach((pair, i) => {
      const key = String(pair.key.value);
      const p = prefix ? `${prefix}.${key}` : key;
      const own = Boolean(pair.key.commentBefore || pair.key.comment || pair.value?.comment || (i === 0 && prefix && map.commentBefore));
      if (own) documented.push(p);
      if (YAML.isMap(pair.value) && pair.value.items.length > 0) walk(pair.value, p, inherited || own);
      else if (!own && !inherited) failed('helm/saiki/values.yaml', `value ${p} has no comment`);
    });
  };
  walk(doc.contents, '', false);
  const readme = fs.readFileSync(path.join(chartDir, 'README.md'), 'utf8');
  for (const p of documented) {
    if (!readme.includes(`| \`${p}\` |`)) failed('helm/saiki/README.md', `the values table has no row for \`${p}\``);
  }
  return documented.length;
}

async function main() {
  const started = Date.now();
  let chart;
  try {
    chart = loadChart(chartDir);
  } catch (e) {
    if (e instanceof CheckError) { console.error(`helm-check: FAILED: helm/saiki: ${e.message}`); process.exit(1); }
    throw e;
  }
  const documented = checkDocumentation();
  log(`values.yaml: ${documented} documented values, all in README.md`);

  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });

  // Good values files: everything must pass.
  const ciFiles = fs.readdirSync(path.join(chartDir, 'ci')).filter((f) => /\.ya?ml$/.test(f)).sort();
  if (ciFiles.length === 0) failed('helm/saiki/ci', 'no values files');
  const baselines = new Map();
  for (const f of ciFiles) {
    const label = `ci/${f}`;
    try {
      const r = await pipeline(chart, path.join(chartDir, 'ci', f), label);
      fs.writeFileSync(path.join(outDir, f.replace(/\.ya?ml$/, '.yaml')), manifestsText(r.manifests));
      if (r.problems.length > 0) {
        for (const p of r.problems) failed(label, p);
        log(`${label}: ${r.problems.length} problem(s)`);
      } else {
        log(`${label}: ${r.docs.length} manifests valid`);
      }
      if (r.problems.length === 0) baselines.set(f, r);
    } catch (e) {
      if (!(e instanceof CheckError)) throw e;
      failed(label, `${e.stage}: ${e.message}`);
      log(`${label}: failed (${e.stage})`);
    }
  }

  // Bad values files: each must be rejected, for the reason it states.
  const badFiles = fs.existsSync(badValuesDir) ? fs.readdirSync(badValuesDir).filter((f) => /\.ya?ml$/.test(f)).sort() : [];
  if (badFiles.length === 0) failed('helm/.check/bad-values', 'no negative values files: the check could pass vacuously');
  for (const f of badFiles) {
    const label = `bad-values/${f}`;
    const file = path.join(badValuesDir, f);
    const expect = /^# expect: (.+)$/m.exec(fs.readFileSync(file, 'utf8'))?.[1]?.trim();
    if (!expect) { failed(label, 'has no "# expect: <part of the error>" line'); continue; }
    let outcome;
    try {
      const r = await pipeline(chart, file, label);
      outcome = r.problems.length > 0 ? { stage: 'manifests', message: r.problems.join('\n') } : null;
    } catch (e) {
      if (!(e instanceof CheckError)) throw e;
      outcome = { stage: e.stage, message: e.message };
    }
    if (!outcome) failed(label, `was ACCEPTED, but must be rejected (expected: ${expect})`);
    else if (!outcome.message.includes(expect)) failed(label, `was rejected for another reason than "${expect}":\n    ${outcome.message.replaceAll('\n', '\n    ')}`);
    else log(`${label}: rejected as expected (${outcome.stage}: ${expect})`);
  }

  // Mutations of a good rendering (ci/default-values.yaml unless m.baseline names another ci file): each must be
  // rejected, for the reason it states.
  {
    let rejected = 0;
    for (const m of MUTATIONS) {
      const base = m.baseline ?? 'default-values.yaml';
      const baseline = baselines.get(base);
      if (!baseline) { failed(`mutation "${m.name}"`, `ci/${base} did not render cleanly, so this negative manifest case could not run`); continue; }
      let problems;
      try {
        try {
          if (m.text) m.text(baseline.manifests.map((x) => ({ ...x })));
          else m.docs(structuredClone(baseline.docs));
        } catch (e) {
          failed(`mutation "${m.name}"`, `cannot be applied to the default rendering (${e.message}); is a checked part missing?`);
          continue;
        }
        if (m.text) {
          const manifests = baseline.manifests.map((x) => ({ ...x }));
          m.text(manifests);
          problems = await checkDocs(parseManifests(manifests), baseline.values);
        } else {
          const docs = structuredClone(baseline.docs);
          m.docs(docs);
          problems = await checkDocs(docs, baseline.values);
        }
      } catch (e) {
        if (!(e instanceof CheckError)) throw e;
        problems = [e.message];
      }
      if (problems.length === 0) failed(`mutation "${m.name}"`, `was ACCEPTED, but must be rejected (expected: ${m.expect})`);
      else if (!problems.some((p) => p.includes(m.expect))) failed(`mutation "${m.name}"`, `was rejected for another reason than "${m.expect}":\n    ${problems.join('\n    ')}`);
      else rejected++;
    }
    log(`negative manifest cases: ${rejected}/${MUTATIONS.length} rejected as expected`);
  }

  if (failures.length > 0) {
    console.error('');
    for (const f of failures) console.error(`helm-check: FAILED: ${f}`);
    console.error(`helm-check: ${failures.length} failure(s); rendered manifests are in helm/.check/out/`);
    process.exit(1);
  }
  log(`values, rendering and manifest checks passed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

await main();

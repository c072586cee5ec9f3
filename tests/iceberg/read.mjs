// Reads an Iceberg table with icebird, an independent JavaScript reader, to check what Saiki writes.
//
//   node tests/iceberg/read.mjs <metadata.json path or URL> [--snapshot <id>] [--rewrite <from>=<to>]...
//
// The metadata file is read here and handed to icebird parsed, with tableUrl = its "location"; so the file can
// have any name. --snapshot reads that snapshot instead of the current one (icebird only reads
// current-snapshot-id, so it gets a copy of the metadata naming the old snapshot current, with that snapshot's
// schema). --rewrite maps a URL prefix for every request, e.g. s3://bucket/=http://127.0.0.1:4568/bucket/ to
// read a table whose paths say s3:// from a local S3 stand-in; icebird itself uses paths verbatim.
//
// Node's fetch cannot read file:// URLs, and icebird calls globalThis.fetch for everything (metadata, Avro
// manifests, Parquet byte ranges), so a fetch shim serves file:// with Range support; it is installed before
// icebird is imported.
//
// Prints one JSON document: { "rows": [...], "snapshot": <id>, "files": <live data files>,
// "deleteFiles": <live delete files>, "dataFiles": [<live data file paths>], "bounds": [{ "file", "lower": {<field id>:
// <hex>}, "upper": {...} }] (each live data file's column bounds as its manifest entry holds them) } with BigInt as
// strings, Date as ISO strings, Uint8Array as hex and undefined as null; exits 0. On failure prints the error to stderr and exits 1.

import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

function parseArguments(argv) {
  const options = { metadata: undefined, snapshot: undefined, rewrites: [] };
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i];
    if (argument === '--snapshot') {
      options.snapshot = argv[++i];
    } else if (argument === '--rewrite') {
      const mapping = argv[++i] ?? '';
      const split = mapping.indexOf('=');
      if (split <= 0) throw new Error(`--rewrite wants <from>=<to>, not ${mapping}`);
      const [from, to] = [mapping.slice(0, split), mapping.slice(split + 1)];
      options.rewrites.push([from, to]);
      // icebird turns s3://bucket/key into https://bucket.s3.amazonaws.com/key itself before it fetches.
      const s3 = /^s3a?:\/\/([^/]+)\/$/.exec(from);
      if (s3) options.rewrites.push([`https://${s3[1]}.s3.amazonaws.com/`, to]);
    } else if (options.metadata === undefined) {
      options.metadata = argument;
    } else {
      throw new Error(`unexpected argument ${argument}`);
    }
  }
  if (!options.metadata) throw new Error('usage: node tests/iceberg/read.mjs <metadata.json path or URL> [--snapshot <id>] [--rewrite <from>=<to>]...');
  if (options.snapshot !== undefined && !/^\d+$/.test(options.snapshot)) throw new Error(`--snapshot wants a snapshot id, not ${options.snapshot}`);
  return options;
}

function rewrite(url, rewrites) {
  for (const [from, to] of rewrites) {
    if (url.startsWith(from)) return to + url.slice(from.length);
  }
  return url;
}

// Serves file:// requests from disk (whole file, or the one byte range hyparquet asks for) and passes every
// other request, after rewriting, to the original fetch.
function installFetchShim(rewrites) {
  const originalFetch = globalThis.fetch;
  globalThis.fetch = async (input, init = {}) => {
    const url = rewrite(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url, rewrites);
    if (!url.startsWith('file:')) return originalFetch(url, init);
    let content;
    try {
      content = await readFile(fileURLToPath(url));
    } catch (error) {
      if (error.code === 'ENOENT') return new Response(`not found: ${url}`, { status: 404 });
      throw error;
    }
    if ((init.method ?? 'GET').toUpperCase() === 'HEAD') {
      return new Response(null, { status: 200, headers: { 'content-length': String(content.length) } });
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(new Headers(init.headers).get('range') ?? '');
    if (!range) return new Response(content, { status: 200, headers: { 'content-length': String(content.length) } });
    const start = Number(range[1]);
    const end = range[2] ? Math.min(Number(range[2]) + 1, content.length) : content.length;
    return new Response(content.subarray(start, end), {
      status: 206,
      headers: { 'content-length': String(end - start), 'content-range': `bytes ${start}-${end - 1}/${content.length}` },
    });
  };
}

async function loadMetadata(location) {
  const url = /^[a-z][a-z0-9+.-]*:/i.test(location) ? location : pathToFileURL(location).href;
  const response = await globalThis.fetch(url);
  if (!response.ok) throw new Error(`cannot read table metadata ${url}: HTTP ${response.status}`);
  return JSON.parse(await response.text());
}

// Snapshot ids are compared as JavaScript numbers by icebird; Saiki keeps them at most 2^53 - 1, so they are exact.
function atSnapshot(metadata, id) {
  const snapshot = (metadata.snapshots ?? []).find(s => String(s['snapshot-id']) === id);
  if (!snapshot) throw new Error(`snapshot ${id} is not in the table metadata`);
  return {
    ...metadata,
    'current-snapshot-id': snapshot['snapshot-id'],
    'current-schema-id': snapshot['schema-id'] ?? metadata['current-schema-id'],
  };
}

function toJson(value) {
  return JSON.stringify(value, (key, v) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
    if (v === undefined) return null;
    return v; // a Date has already become its ISO string through Date.prototype.toJSON
  });
}

try {
  const options = parseArguments(process.argv.slice(2));
  installFetchShim(options.rewrites);
  const { icebergRead, icebergManifests } = await import('icebird');
  let metadata = await loadMetadata(options.metadata);
  if (options.snapshot !== undefined) metadata = atSnapshot(metadata, options.snapshot);
  const tableUrl = String(metadata.location ?? '').replace(/\/+$/, '');
  if (!tableUrl) throw new Error('the table metadata has no location');

  const rows = await icebergRead({ tableUrl, metadata });
  const live = (await icebergManifests(metadata)).flatMap(m => m.entries).filter(e => e.status !== 2);
  const dataFiles = live.filter(e => !e.data_file.content).map(e => e.data_file.file_path);
  const files = dataFiles.length;
  // An Avro map of int keys is an array of {key, value} records.
  const boundsOf = map => Object.fromEntries(Array.isArray(map) ? map.map(e => [e.key, e.value]) : Object.entries(map ?? {}));
  const bounds = live.filter(e => !e.data_file.content).map(e => ({
    file: e.data_file.file_path, lower: boundsOf(e.data_file.lower_bounds), upper: boundsOf(e.data_file.upper_bounds),
  }));
  process.stdout.write(toJson({ rows, snapshot: metadata['current-snapshot-id'], files, deleteFiles: live.length - files, dataFiles, bounds }) + '\n');
} catch (error) {
  process.stderr.write(`read.mjs: ${error?.stack ?? error}\n`);
  process.exitCode = 1;
}

// Walks an Iceberg REST catalog with iceberg-js, a client this project did not write, to check what Saiki serves.
//
//   node tests/iceberg/catalog.mjs <baseUrl> [--token <token>]
//
// <baseUrl> is the catalog's root without /v1 (iceberg-js appends v1/...), e.g. http://127.0.0.1:5000/iceberg.
// The script lists the top-level namespaces, then (with parent) the children of each until it reaches namespaces
// without children; lists the tables of every namespace it found (a leaf, or one with tables of its own); loads
// each table (loadTableResult: metadata-location and metadata); pages the top-level namespaces, and the tables of
// the namespace with the most, one by one (pageToken '' starts paging, as the spec says); checks namespaceExists and tableExists for a name that exists
// and one that does not; and tries one write (createNamespace), which a read-only catalog must refuse.
//
// Prints one JSON document and exits 0 whatever the catalog answered (the caller asserts on it):
//   { "namespaces": [[...], ...],                  every namespace found, top level first
//     "listings": [{ "parent": [...]|null, "namespaces": [[...]] }],
//     "paged": { "namespaces": { "items": [[...]], "pages": n },
//                "tables": { "namespace": [...], "items": [{namespace, name}], "pages": n } | null },
//     "tables": [{ "namespace": [...], "name": ..., "metadataLocation": ..., "metadata": {...}, "config": {...} }],
//     "exists": { "namespace": { "name": [...], "exists": bool }, "missingNamespace": {...},
//                 "table": { "name": {namespace, name}, "exists": bool }, "missingTable": {...} },
//     "write": { "refused": bool, "status": n, "type": ..., "code": n, "message": ... } }
// A request that fails unexpectedly prints the error to stderr and exits 1.

import { IcebergError, IcebergRestCatalog } from 'iceberg-js';

function parseArguments(argv) {
  const options = { baseUrl: undefined, token: undefined };
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i];
    if (argument === '--token') {
      options.token = argv[++i];
      if (!options.token) throw new Error('--token wants a token');
    } else if (options.baseUrl === undefined) {
      options.baseUrl = argument;
    } else {
      throw new Error(`unexpected argument ${argument}`);
    }
  }
  if (!options.baseUrl) throw new Error('usage: node tests/iceberg/catalog.mjs <baseUrl> [--token <token>]');
  // iceberg-js resolves v1/... against the base URL; a /v1 already there would make /v1/v1/...
  if (/\/v1\/?$/.test(options.baseUrl)) throw new Error(`give the catalog root without /v1, not ${options.baseUrl}`);
  return options;
}

const key = namespace => namespace.join('\u001f');

// Every namespace under the top level, breadth first; a namespace's children come from listNamespaces({parent}).
async function walkNamespaces(catalog) {
  const listings = [];
  const found = [];
  let level = [null];
  while (level.length > 0) {
    const next = [];
    for (const parent of level) {
      const { namespaces } = await catalog.listNamespaces(parent ? { parent: { namespace: parent } } : {});
      const children = namespaces.map(n => n.namespace);
      listings.push({ parent, namespaces: children });
      for (const child of children) {
        if (found.some(f => key(f) === key(child))) continue; // a catalog listing a namespace twice must not loop
        found.push(child);
        next.push(child);
      }
    }
    level = next;
  }
  return { found, listings };
}

// Follows next-page-token from pageToken '' (the spec's first page) with one item a page.
async function pageThrough(list) {
  const items = [];
  let pages = 0;
  let pageToken = '';
  do {
    const page = await list({ pageToken, pageSize: 1 });
    pages++;
    items.push(...page.items);
    pageToken = page.nextPageToken;
    if (pages > 1000) throw new Error('paging does not end');
  } while (pageToken);
  return { items, pages };
}

async function refusedWrite(catalog) {
  try {
    await catalog.createNamespace({ namespace: ['saiki_catalog_check'] }, { properties: { by: 'catalog.mjs' } });
    return { refused: false };
  } catch (error) {
    if (!(error instanceof IcebergError)) throw error;
    return { refused: true, status: error.status, type: error.icebergType ?? null, code: error.icebergCode ?? null, message: error.message };
  }
}

try {
  const options = parseArguments(process.argv.slice(2));
  const catalog = new IcebergRestCatalog({
    baseUrl: options.baseUrl,
    auth: options.token ? { type: 'bearer', token: options.token } : { type: 'none' },
  });

  const { found, listings } = await walkNamespaces(catalog);
  const tables = [];
  for (const namespace of found) {
    const { identifiers } = await catalog.listTables({ namespace });
    for (const id of identifiers) {
      const result = await catalog.loadTableResult({ namespace: id.namespace, name: id.name });
      tables.push({
        namespace: id.namespace, name: id.name,
        metadataLocation: result['metadata-location'] ?? null, metadata: result.metadata ?? null, config: result.config ?? null,
      });
    }
  }
  const pagedNamespaces = await pageThrough(async o => {
    const page = await catalog.listNamespaces(o);
    return { items: page.namespaces.map(n => n.namespace), nextPageToken: page.nextPageToken };
  });
  // The namespace with the most tables, so that its paging takes more than one page.
  const busiest = found.map(n => ({ n, count: tables.filter(t => key(t.namespace) === key(n)).length })).sort((a, b) => b.count - a.count)[0]?.n;
  const pagedTables = busiest
    ? { namespace: busiest, ...await pageThrough(async o => {
        const page = await catalog.listTables({ namespace: busiest }, o);
        return { items: page.identifiers, nextPageToken: page.nextPageToken };
      }) }
    : null;
  const paged = { namespaces: pagedNamespaces, tables: pagedTables };

  const someNamespace = found.at(-1) ?? ['saiki_none'];
  const missingNamespace = [...someNamespace.slice(0, -1), 'saiki_missing_namespace'];
  const someTable = tables[0] ? { namespace: tables[0].namespace, name: tables[0].name } : { namespace: someNamespace, name: 'saiki_none' };
  const missingTable = { namespace: someTable.namespace, name: 'saiki_missing_table' };
  const exists = {
    namespace: { name: someNamespace, exists: await catalog.namespaceExists({ namespace: someNamespace }) },
    missingNamespace: { name: missingNamespace, exists: await catalog.namespaceExists({ namespace: missingNamespace }) },
    table: { name: someTable, exists: await catalog.tableExists(someTable) },
    missingTable: { name: missingTable, exists: await catalog.tableExists(missingTable) },
  };

  const write = await refusedWrite(catalog);
  process.stdout.write(JSON.stringify({ namespaces: found, listings, paged, tables, exists, write }) + '\n');
} catch (error) {
  process.stderr.write(`catalog.mjs: ${error?.stack ?? error}${error?.status !== undefined ? ` (HTTP ${error.status})` : ''}\n`);
  process.exitCode = 1;
}

// Runs Neo4j's own Cypher linter (lintCypherQuery from @neo4j-cypher/language-support, the
// engine behind Neo4j's editors) over many statements in one Node process.
//
// stdin:  {"statements": [{"id": str, "text": str, "parameters"?: {name: value}}],
//          "schema": {labels, relationshipTypes, propertyKeys, graphSchema, parameters,
//                     defaultLanguage, procedures?, functions?}}
// stdout: {"registry": {...}, "diagnostics": [{id, severity, deprecated, message, line,
//          character, offset}]}
//
// Procedures and functions: unless the schema brings its own, the package's bundled registry dump
// is used (testData.mockSchema: the procedure and function signatures of a Neo4j 5 server with
// the Graph Data Science plugin, deprecation flags included). A CALL to something not in it is an
// error; a deprecated one is a warning tagged as deprecated.
//
// Semantic analysis costs tens of milliseconds per statement, so the statements are split over
// worker threads (one per core, at most four) inside this one process.
import { availableParallelism } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { lintCypherQuery, testData } from '@neo4j-cypher/language-support';

const SEVERITY = { 1: 'error', 2: 'warning', 3: 'information', 4: 'hint' };
const DEPRECATED_TAG = 2; // vscode-languageserver DiagnosticTag.Deprecated

function lintAll(statements, baseSchema) {
  // One schema object per distinct parameter set: each statement is checked against exactly the
  // parameters the code sends with it.
  const schemas = new Map();
  const schemaFor = (parameters) => {
    if (!parameters) return baseSchema;
    const key = JSON.stringify(Object.keys(parameters).sort());
    if (!schemas.has(key)) schemas.set(key, { ...baseSchema, parameters });
    return schemas.get(key);
  };
  const diagnostics = [];
  for (const statement of statements) {
    const { diagnostics: found } = lintCypherQuery(statement.text, schemaFor(statement.parameters));
    for (const d of found) {
      const tags = d.tags ?? [];
      diagnostics.push({
        id: statement.id,
        severity: SEVERITY[d.severity] ?? String(d.severity),
        deprecated: tags.includes(DEPRECATED_TAG) || /deprecated/i.test(d.message),
        message: d.message,
        line: d.range.start.line + 1,
        character: d.range.start.character + 1,
        offset: d.offsets?.start ?? null,
      });
    }
  }
  return diagnostics;
}

// The linter re-serialises the whole registry on every call to see whether it changed; handing
// it only the entries whose names occur in the statements keeps that cheap. A name absent from
// the statements cannot be called by them, so nothing is checked less strictly.
function mentioned(registry, corpus) {
  const out = {};
  for (const [version, entries] of Object.entries(registry ?? {})) {
    out[version] = Object.fromEntries(
      Object.entries(entries).filter(([name]) => corpus.includes(name.toLowerCase())),
    );
  }
  return out;
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function runWorker(statements, baseSchema) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { statements, baseSchema } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`lint worker exited with ${code}`));
    });
  });
}

async function main() {
  const input = JSON.parse(await readStdin());
  const corpus = input.statements.map((s) => s.text).join('\n').toLowerCase();
  const bundled = testData.mockSchema;
  const baseSchema = {
    procedures: mentioned(bundled.procedures, corpus),
    functions: mentioned(bundled.functions, corpus),
    defaultLanguage: 'CYPHER 5',
    ...input.schema,
  };
  const workers = Math.max(1, Math.min(4, availableParallelism(), Math.floor(input.statements.length / 20)));
  const chunks = Array.from({ length: workers }, () => []);
  input.statements.forEach((s, i) => chunks[i % workers].push(s));
  const results = workers === 1
    ? [lintAll(input.statements, baseSchema)]
    : await Promise.all(chunks.map((chunk) => runWorker(chunk, baseSchema)));

  const version = baseSchema.defaultLanguage;
  process.stdout.write(JSON.stringify({
    registry: {
      cypherVersion: version,
      bundledProcedures: Object.keys(bundled.procedures?.[version] ?? {}).length,
      procedures: Object.keys(baseSchema.procedures?.[version] ?? {}).length,
      functions: Object.keys(baseSchema.functions?.[version] ?? {}).length,
      workers,
    },
    diagnostics: results.flat(),
  }));
}

if (isMainThread) {
  await main();
} else {
  parentPort.postMessage(lintAll(workerData.statements, workerData.baseSchema));
}

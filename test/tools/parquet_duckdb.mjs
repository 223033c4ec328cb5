// parquet_duckdb.mjs — DuckDB as the independent oracle of vlake's Parquet
// interop tests (test/t/050_parquet_duckdb.pl).
//
//   node parquet_duckdb.mjs query SQL...
//       runs each SQL statement in one in-memory DuckDB session and prints,
//       for the last one, a JSON array of rows; every cell is converted to
//       text by DuckDB (CAST ... AS VARCHAR) or null.
//   node parquet_duckdb.mjs script FILE
//       runs the statements of FILE (separated by ';' at line ends), prints
//       the rows of the last one like "query".
//
// Exit status 0 on success; DuckDB errors go to stderr with status 1.
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';

async function run(statements) {
  const inst = await DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  await con.run("SET TimeZone = 'UTC'");
  let rows = [];
  for (const sql of statements) {
    if (!/^\s*(select|with|from|describe)\b/i.test(sql)) { await con.run(sql); continue; }
    const reader = await con.runAndReadAll(sql);
    const names = reader.columnNames();
    // Re-run as text so the caller compares DuckDB's own rendering.
    const cols = names.map((n) => `CAST("${n.replaceAll('"', '""')}" AS VARCHAR)`).join(', ');
    const text = await con.runAndReadAll(`SELECT ${cols} FROM (${sql.replace(/;\s*$/, '')}) AS q`);
    rows = text.getRows().map((r) => r.map((v) => (v === null ? null : String(v))));
  }
  return rows;
}

const [mode, ...args] = process.argv.slice(2);
let statements;
if (mode === 'query') statements = args;
else if (mode === 'script') {
  statements = readFileSync(args[0], 'utf8').split(/;\s*\n/).map((s) => s.trim()).filter((s) => s.length > 0);
} else {
  console.error('usage: parquet_duckdb.mjs query SQL... | script FILE');
  process.exit(2);
}
try {
  const rows = await run(statements);
  process.stdout.write(JSON.stringify(rows) + '\n');
} catch (e) {
  console.error(`duckdb: ${e.message}`);
  process.exit(1);
}

// table_manifest_read.mjs — an independent reader of a vlake table's lake
// (docs/manifest.md): the oracle side of test/t/061_table_manifest_duckdb.pl.
//
//   node table_manifest_read.mjs ROOT_DIR [VERSION]
//
// Reads the dataset under the directory ROOT_DIR the way another engine
// would, knowing only the manifest spec:
//  - the latest version = the largest exact version key in _manifest/
//    (or VERSION); the document is JSON.parse'd and checked for the rules a
//    reader relies on (version = key, parent = version - 1, row ranges);
//  - every ColumnGroup file is read with DuckDB (read_parquet with
//    file_row_number), its columns found by Parquet field_id
//    (parquet_schema), row r of a file being row ID first_row_id + r;
//  - every delete vector is decoded with this file's own reader of the
//    portable 64-bit Roaring format (RoaringFormatSpec), each 32-bit bitmap
//    cross-checked with roaring-wasm (CRoaring in WebAssembly) when present.
// Prints JSON: {"version", "chain": [versions present], "fields": [names],
// "rows": [[text or null, ...] by field, in row-ID order], "deleted": n}.
// Every value is DuckDB's text of it (CAST AS VARCHAR).
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const [root, wantVersion] = process.argv.slice(2);
const fail = (msg) => { console.error(`table_manifest_read: ${msg}`); process.exit(1); };

// ---------------------------------------------------------------- manifest
const versions = readdirSync(join(root, '_manifest'))
  .map((k) => /^([0-9]{20})\.json$/.exec(k)).filter(Boolean).map((m) => Number(m[1]))
  .filter((v) => v >= 1).sort((a, b) => a - b);
if (versions.length === 0) fail('no manifest');
const version = wantVersion ? Number(wantVersion) : versions[versions.length - 1];
const key = `_manifest/${String(version).padStart(20, '0')}.json`;
const doc = JSON.parse(readFileSync(join(root, key), 'utf8'));
if (doc.format !== 'vlake.manifest' || doc.format_version !== 1) fail('not a format 1 manifest');
if (doc.version !== version) fail(`${key} says version ${doc.version}`);
if (doc.parent_version !== (version === 1 ? null : version - 1)) fail('bad parent_version');

// ----------------------------------------------------------- delete vectors
// Size of the 32-bit portable bitmap at b[pos..] and its values (+ high).
function bitmap32(b, pos, high, out) {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const start = pos;
  const word = v.getUint32(pos, true);
  let n, runs = null;
  if ((word & 0xffff) === 12347) {            // SERIAL_COOKIE: has run containers
    n = (word >>> 16) + 1; pos += 4;
    const bytes = Math.floor((n + 7) / 8);
    runs = b.subarray(pos, pos + bytes); pos += bytes;
  } else if (word === 12346) {                // SERIAL_COOKIE_NO_RUNCONTAINER
    n = v.getUint32(pos + 4, true); pos += 8;
  } else fail(`bad roaring cookie ${word}`);
  const keys = [], cards = [];
  for (let i = 0; i < n; i++) {
    keys.push(v.getUint16(pos, true)); cards.push(v.getUint16(pos + 2, true) + 1); pos += 4;
  }
  const isRun = (i) => runs !== null && (runs[i >> 3] & (1 << (i & 7))) !== 0;
  if (runs === null || n >= 4) pos += 4 * n;    // offset header
  for (let i = 0; i < n; i++) {
    const base = high * 2 ** 32 + keys[i] * 65536;
    if (isRun(i)) {
      const nruns = v.getUint16(pos, true); pos += 2;
      for (let r = 0; r < nruns; r++) {
        const s = v.getUint16(pos, true), len = v.getUint16(pos + 2, true); pos += 4;
        for (let x = s; x <= s + len; x++) out.push(base + x);
      }
    } else if (cards[i] > 4096) {             // bitset container
      for (let w = 0; w < 1024; w++) {
        const lo = v.getUint32(pos + 8 * w, true), hi = v.getUint32(pos + 8 * w + 4, true);
        for (let bit = 0; bit < 32; bit++) {
          if (lo & (1 << bit)) out.push(base + 64 * w + bit);
          if (hi & (1 << bit)) out.push(base + 64 * w + 32 + bit);
        }
      }
      pos += 8192;
    } else {                                  // array container
      for (let x = 0; x < cards[i]; x++) out.push(base + v.getUint16(pos + 2 * x, true));
      pos += 2 * cards[i];
    }
  }
  return pos - start;
}

let roaring = null;
try {
  roaring = await import('roaring-wasm');
  await roaring.roaringLibraryInitialize();
} catch { roaring = null; }

function readDeletes(path) {
  const b = readFileSync(join(root, path));
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const nbuckets = Number(v.getBigUint64(0, true));
  let pos = 8;
  const ids = [];
  for (let i = 0; i < nbuckets; i++) {
    const high = v.getUint32(pos, true); pos += 4;
    const before = ids.length;
    const size = bitmap32(b, pos, high, ids);
    if (roaring) {
      const bm = roaring.RoaringBitmap32.deserialize(b.subarray(pos, pos + size), 'portable');
      const lows = Array.from(bm.toUint32Array());
      const mine = ids.slice(before).map((x) => x - high * 2 ** 32);
      if (lows.length !== mine.length || lows.some((x, k) => x !== mine[k]))
        fail(`${path}: roaring-wasm reads another set than this reader`);
      bm.dispose();
    }
    pos += size;
  }
  if (pos !== b.length) fail(`${path}: ${b.length - pos} trailing bytes`);
  return new Set(ids);
}

// ------------------------------------------------------------------- rows
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
await con.run("SET TimeZone = 'UTC'");
const q = async (sql) => (await con.runAndReadAll(sql)).getRows();
const lit = (s) => `'${s.replaceAll("'", "''")}'`;
const ident = (s) => `"${s.replaceAll('"', '""')}"`;

const fields = doc.schema.fields;
const rows = [];
let deleted = 0;
let prevEnd = 0;
for (const seg of doc.segments) {
  if (seg.first_row_id < prevEnd || seg.end_row_id - seg.first_row_id !== seg.row_count)
    fail(`segment ${seg.id}: bad row range`);
  prevEnd = seg.end_row_id;
  const values = Array.from({ length: seg.row_count }, () => fields.map(() => null));
  for (const g of seg.groups) {
    const file = join(root, g.path);
    // top-level columns by field id
    const top = new Set((await q(`DESCRIBE SELECT * FROM read_parquet(${lit(file)})`)).map((r) => r[0]));
    const byId = new Map();
    for (const [name, fid] of await q(`SELECT name, field_id FROM parquet_schema(${lit(file)}) WHERE field_id IS NOT NULL`))
      if (top.has(name)) byId.set(Number(fid), name);
    const cols = g.field_ids.map((f) => {
      if (!byId.has(f)) fail(`${g.path}: no column with field_id ${f}`);
      return byId.get(f);
    });
    const sel = cols.map((c) => `CAST(${ident(c)} AS VARCHAR)`).join(', ');
    const got = await q(`SELECT file_row_number, ${sel} FROM read_parquet(${lit(file)}, file_row_number = true)`);
    if (got.length !== g.row_count || g.row_count !== seg.row_count) fail(`${g.path}: ${got.length} rows`);
    for (const r of got) {
      const rn = Number(r[0]);
      g.field_ids.forEach((f, k) => {
        values[rn][fields.findIndex((x) => x.id === f)] = r[k + 1] === null ? null : String(r[k + 1]);
      });
    }
  }
  const del = seg.deletes ? readDeletes(seg.deletes.path) : new Set();
  if (seg.deletes && del.size !== seg.deletes.cardinality) fail(`segment ${seg.id}: cardinality`);
  for (const id of del)
    if (id < seg.first_row_id || id >= seg.end_row_id) fail(`segment ${seg.id}: deleted row ${id} outside`);
  for (let r = 0; r < seg.row_count; r++) {
    if (del.has(seg.first_row_id + r)) { deleted++; continue; }
    rows.push(values[r]);
  }
}
process.stdout.write(JSON.stringify({
  version, chain: versions, fields: fields.map((f) => f.name), rows, deleted,
}) + '\n');

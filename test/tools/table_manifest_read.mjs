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
//  - every object list (format 3, a group's "objects": docs/manifest.md,
//    "Object lists") of the group each object_ref field is read from is
//    read with DuckDB and checked against that group's column (one list row
//    per non-null value, the same reference, sorted by (uri, row_id), the
//    count and size the manifest gives); the version's referenced objects
//    are the list rows of rows the delete vectors do not list (for a group
//    without a list, the live values of its column);
//  - every index part of type "vlake_ivf" is read as docs/index-format.md
//    describes it (index.meta with its CRC-32C, the list directory, the row
//    references of codes.bin with each list's CRC-32C, vectors.bin — or,
//    for a part with none (vectors_size 0, param rerank "table"), the
//    indexed field of the version's ColumnGroups) and
//    used the way docs/manifest.md ("Indexes") tells a reader to: its
//    entries that name lake rows (row references of blocks >= 2^31) within
//    [first_row_id, end_row_id) that are rows of the version (not deleted),
//    plus every other row of the version found by a scan; the tool reports
//    rows of the range the part misses and vectors that differ from the
//    ColumnGroups', and with --queries the exact top --k rows of each query
//    found that way.  Index types it does not know are skipped.
// Prints JSON: {"version", "chain": [versions present], "fields": [names],
// "rows": [[text or null, ...] by field, in row-ID order], "deleted": n,
// "objects": [[uri, size, sha256, mime or null, rows], ...] sorted,
// "object_lists": {read, fallback, rows} (lists read, groups without one,
// list rows read),
// "indexes": [{name, type, field_id, first_row_id, end_row_id, location,
// part: {...}, topk: [[row, ...] per query]}]}.
// Every value is DuckDB's text of it (CAST AS VARCHAR).
//
//   node table_manifest_read.mjs ROOT_DIR [VERSION] [--queries=JSON] [--k=N]
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const option = (name, dflt) => {
  const a = process.argv.slice(2).find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? dflt : a.slice(name.length + 3);
};
const [root, wantVersion] = positional;
const queries = JSON.parse(option('queries', '[]'));
const topK = Number(option('k', '10'));
const fail = (msg) => { console.error(`table_manifest_read: ${msg}`); process.exit(1); };

// ---------------------------------------------------------------- manifest
const versions = readdirSync(join(root, '_manifest'))
  .map((k) => /^([0-9]{20})\.json$/.exec(k)).filter(Boolean).map((m) => Number(m[1]))
  .filter((v) => v >= 1).sort((a, b) => a - b);
if (versions.length === 0) fail('no manifest');
const version = wantVersion ? Number(wantVersion) : versions[versions.length - 1];
const key = `_manifest/${String(version).padStart(20, '0')}.json`;
const doc = JSON.parse(readFileSync(join(root, key), 'utf8'));
if (doc.format !== 'vlake.manifest' || ![1, 2, 3].includes(doc.format_version)) fail('not a format 1, 2 or 3 manifest');
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
const objects = new Map();       // JSON [uri, size, sha256, mime] -> rows
const objectLists = { read: 0, fallback: 0, rows: 0 };
const noteObject = (uri, size, sha, mime) => {
  const k = JSON.stringify([uri, Number(size), sha, mime ?? null]);
  objects.set(k, (objects.get(k) ?? 0) + 1);
};
const bytewise = (a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
const rows = [];
const rowIds = [];
let deleted = 0;
let prevEnd = 0;
for (const seg of doc.segments) {
  if (seg.first_row_id < prevEnd || seg.end_row_id - seg.first_row_id !== seg.row_count)
    fail(`segment ${seg.id}: bad row range`);
  prevEnd = seg.end_row_id;
  const values = Array.from({ length: seg.row_count }, () => fields.map(() => null));
  const readFrom = new Map();    // field id -> the group its values come from (the last)
  for (const g of seg.groups) {
    for (const f of g.field_ids) readFrom.set(f, g);
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
    rowIds.push(seg.first_row_id + r);
  }
  // the referenced objects of the segment's live rows
  for (const f of fields.filter((x) => x.type === 'object_ref')) {
    const g = readFrom.get(f.id);
    if (!g) continue;                             // the segment has no value of it
    const fi = fields.indexOf(f);
    if (!g.objects) {                             // no list (another engine's group): the column
      objectLists.fallback++;
      for (let r = 0; r < seg.row_count; r++) {
        if (del.has(seg.first_row_id + r) || values[r][fi] === null) continue;
        const o = JSON.parse(values[r][fi]);
        noteObject(o.uri, o.size, o.sha256, o.mime);
      }
      continue;
    }
    const at = g.objects.path;
    const file = join(root, at);
    if (statSync(file).size !== g.objects.size) fail(`${at}: size is not the manifest's`);
    const list = await q(`SELECT uri, row_id, field_id, size, sha256, mime
      FROM read_parquet(${lit(file)}, file_row_number = true) ORDER BY file_row_number`);
    if (list.length !== g.objects.count) fail(`${at}: ${list.length} rows, the manifest says ${g.objects.count}`);
    objectLists.read++;
    objectLists.rows += list.length;
    let nonNull = 0;
    for (let r = 0; r < seg.row_count; r++) if (values[r][fi] !== null) nonNull++;
    if (g.field_ids.filter((x) => fields.find((y) => y.id === x).type === 'object_ref').length === 1 &&
        list.length !== nonNull)
      fail(`${at}: ${list.length} rows for ${nonNull} non-null values of field ${f.id}`);
    let prev = null;
    for (const [uri, rowIdB, fid, size, sha, mime] of list) {
      const rowId = Number(rowIdB);
      if (prev && (bytewise(prev[0], uri) > 0 || (prev[0] === uri && prev[1] >= rowId)))
        fail(`${at}: not sorted by (uri, row_id) at row ${rowId}`);
      prev = [uri, rowId];
      if (rowId < seg.first_row_id || rowId >= seg.end_row_id) fail(`${at}: row ${rowId} outside the segment`);
      if (Number(fid) !== f.id) continue;         // another object_ref field of the group
      const v = values[rowId - seg.first_row_id][fi];
      const o = v === null ? null : JSON.parse(v);
      if (!o || o.uri !== uri || o.size !== Number(size) || o.sha256 !== sha || (o.mime ?? null) !== mime)
        fail(`${at}: row ${rowId} lists ${uri}, its value is ${v}`);
      if (!del.has(rowId)) noteObject(uri, size, sha, mime);
    }
  }
}

// ----------------------------------------------------------- index parts
// CRC-32C (Castagnoli, reflected 0x82F63B78), as index-format.md uses it.
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  return c >>> 0;
});
function crc32c(b) {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = crcTable[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
const METRICS = ['l2', 'inner_product', 'cosine'];

// One part: every entry (row reference decoded, vector), checked against
// the manifest's params and the files' own sizes and checksums.
function readPart(x) {
  const at = `index ${x.name}`;
  let dir;
  if (x.location.startsWith('file://')) dir = x.location.slice('file://'.length);
  else if (/^[a-z0-9]+:\/\//.test(x.location)) fail(`${at}: this reader only reads file:// parts`);
  else dir = join(root, x.location);
  const meta = readFileSync(join(dir, 'index.meta'));
  const codes = readFileSync(join(dir, 'codes.bin'));
  const m = new DataView(meta.buffer, meta.byteOffset, meta.byteLength);
  const c = new DataView(codes.buffer, codes.byteOffset, codes.byteLength);
  if (String(meta.length) !== x.params.index_meta_size) fail(`${at}: index.meta has ${meta.length} bytes`);
  if (meta.subarray(0, 8).toString('latin1') !== 'VLIXMETA') fail(`${at}: index.meta magic`);
  if (codes.subarray(0, 8).toString('latin1') !== 'LIXCODES') fail(`${at}: codes.bin magic`);
  // index-format.md: vectors_size 0 = no vectors.bin, the re-rank reads the
  // indexed field of the version (manifest param rerank "table")
  const tableVectors = Number(m.getBigUint64(56, true)) === 0;
  if (tableVectors !== (x.params.rerank === 'table')) fail(`${at}: rerank param ${x.params.rerank} vs vectors_size`);
  if (tableVectors && existsSync(join(dir, 'vectors.bin'))) fail(`${at}: a vectors.bin index.meta does not name`);
  const vecs = tableVectors ? null : readFileSync(join(dir, 'vectors.bin'));
  const v = vecs && new DataView(vecs.buffer, vecs.byteOffset, vecs.byteLength);
  if (vecs && vecs.subarray(0, 8).toString('latin1') !== 'VLIXVECS') fail(`${at}: vectors.bin magic`);
  if (m.getUint32(meta.length - 4, true) !== crc32c(meta.subarray(0, meta.length - 4)))
    fail(`${at}: index.meta checksum`);
  const hdr = {
    version: m.getUint32(8, true), metric: m.getUint32(12, true), dim: m.getUint32(16, true),
    pdim: m.getUint32(20, true), lists: m.getUint32(24, true), groups: m.getUint32(28, true),
    nvec: Number(m.getBigUint64(32, true)), codes_size: Number(m.getBigUint64(48, true)),
    vectors_size: Number(m.getBigUint64(56, true)),
  };
  if (![2, 3].includes(hdr.version)) fail(`${at}: index.meta version ${hdr.version}`);
  if (hdr.codes_size !== codes.length || hdr.vectors_size !== (vecs ? vecs.length : 0)) fail(`${at}: file sizes`);
  if (String(hdr.dim) !== x.params.dim || String(hdr.lists) !== x.params.lists ||
      String(hdr.nvec) !== x.params.vectors || METRICS[hdr.metric] !== x.params.metric)
    fail(`${at}: params ${JSON.stringify(x.params)} do not match index.meta ${JSON.stringify(hdr)}`);
  if (x.params.row_refs !== 'tid') fail(`${at}: row_refs ${x.params.row_refs}`);
  const words = hdr.pdim / 64;
  const dirAt = 320 + 4 * hdr.lists * hdr.dim;
  const entries = [];
  for (let l = 0; l < hdr.lists; l++) {
    const codesOff = Number(m.getBigUint64(dirAt + 24 * l, true));
    const vecsOff = Number(m.getBigUint64(dirAt + 24 * l + 8, true));
    const count = m.getUint32(dirAt + 24 * l + 16, true);
    const blockLen = count * (words * 8 + 8 + 20);
    if (crc32c(codes.subarray(codesOff, codesOff + blockLen)) !== m.getUint32(dirAt + 24 * l + 20, true))
      fail(`${at}: list ${l} checksum`);
    for (let j = 0; j < count; j++) {
      const ref = c.getBigUint64(codesOff + 8 * (count * words + j), true);
      const block = ref >> 16n, offset = ref & 0xffffn;
      // docs/manifest.md: lake rows have blocks from 2^31 on; others name
      // rows of the table's delta, which a reader outside Postgres skips
      const rowId = block >= 2n ** 31n ? Number((block - 2n ** 31n) * 256n + offset - 1n) : null;
      if (tableVectors && vecsOff !== 0) fail(`${at}: list ${l} points into a vectors.bin`);
      const vec = tableVectors ? null
        : Array.from({ length: hdr.dim }, (_, k) => v.getFloat32(vecsOff + 4 * (j * hdr.dim + k), true));
      entries.push({ rowId, vec });
    }
  }
  if (entries.length !== hdr.nvec) fail(`${at}: ${entries.length} entries, index.meta says ${hdr.nvec}`);
  return { hdr, entries, tableVectors };
}

const parseVec = (t) => t.slice(1, -1).split(',').map(Number);
function distance(metric, q, x) {
  let s = 0, qq = 0, xx = 0;
  for (let k = 0; k < q.length; k++) {
    if (metric === 'l2') s += (q[k] - x[k]) ** 2;
    else { s += q[k] * x[k]; qq += q[k] ** 2; xx += x[k] ** 2; }
  }
  if (metric === 'l2') return Math.sqrt(s);
  if (metric === 'inner_product') return -s;
  return 1 - s / Math.sqrt(qq * xx);
}

const indexes = [];
for (const x of doc.indexes) {
  if (x.type !== 'vlake_ivf') continue;          // readers skip types they do not know
  const f = fields.findIndex((y) => y.id === x.field_id);
  if (f < 0) fail(`index ${x.name}: field ${x.field_id} not in the schema`);
  const { hdr, entries, tableVectors } = readPart(x);
  const live = new Map(rowIds.map((id, i) => [id, i]));
  const inRange = (id) => id !== null && id >= x.first_row_id && id < x.end_row_id;
  const byRow = new Map();
  let deltaRefs = 0, gone = 0, mismatched = 0;
  for (const e of entries) {
    if (e.rowId === null) { deltaRefs++; continue; }
    if (!inRange(e.rowId)) continue;
    if (!live.has(e.rowId)) { gone++; continue; }  // deleted (delete vectors)
    const want = rows[live.get(e.rowId)][f] === null ? null : parseVec(rows[live.get(e.rowId)][f]);
    if (e.vec === null) {
      // no vectors file: the exact re-rank reads the field of the version
      if (want !== null) byRow.set(e.rowId, want);
      continue;
    }
    byRow.set(e.rowId, e.vec);
    if (hdr.metric !== 2 && want.some((w, k) => Math.fround(w) !== e.vec[k])) mismatched++;
  }
  // every row of the range with a value must have an entry
  let missing = 0, scanned = 0;
  rowIds.forEach((id, i) => {
    if (rows[i][f] !== null && inRange(id) && !byRow.has(id)) missing++;
  });
  // the exact top k: the part for its range, a scan for everything else
  const topk = queries.map((q) => {
    const cand = [];
    for (const [id, vec] of byRow) cand.push([distance(x.params.metric, q, vec), live.get(id)]);
    rowIds.forEach((id, i) => {
      if (rows[i][f] === null || inRange(id)) return;
      scanned++;
      cand.push([distance(x.params.metric, q, parseVec(rows[i][f])), i]);
    });
    cand.sort((a, b) => a[0] - b[0]);
    return cand.slice(0, topK).map(([d, i]) => rows[i]);
  });
  indexes.push({
    name: x.name, type: x.type, field_id: x.field_id, first_row_id: x.first_row_id,
    end_row_id: x.end_row_id, data_version: x.data_version, location: x.location, params: x.params,
    part: { lists: hdr.lists, vectors: hdr.nvec, rerank: tableVectors ? 'table' : 'part', delta_refs: deltaRefs, used: byRow.size,
            deleted: gone, missing, mismatched, scanned_beyond: queries.length ? scanned / queries.length : 0 },
    topk,
  });
}

process.stdout.write(JSON.stringify({
  version, chain: versions, fields: fields.map((f) => f.name), rows, deleted, indexes,
  objects: [...objects].map(([k, n]) => [...JSON.parse(k), n]).sort((a, b) => bytewise(JSON.stringify(a), JSON.stringify(b))),
  object_lists: objectLists,
}) + '\n');

// foreign_writer.mjs — another engine committing versions of a dataset on a
// local filesystem, written from docs/manifest.md ("Commits by other
// engines") alone: the writer side of test/t/069_foreign_writer.pl.
//
//   node foreign_writer.mjs ROOT_DIR COMMAND JSON [--hold=FILE] [--retries=N]
//
// COMMAND and its JSON argument:
//   add-column {"name": "label", "type": "string", "from": "id", "expr": "SQL over x"}
//       a new nullable field (the next field id) and, for every segment, one
//       Parquet file holding it for every row: the DuckDB expression expr
//       over x, the value of field `from` of the same row (read from the
//       segment's group holding it, row r of a file being row ID
//       first_row_id + r);
//   patch-column {"name": "label", "from": "id", "expr": "SQL over x"}
//       new values of an existing field for every row of every segment: a
//       group per segment holding it (after the segment's groups, so it
//       supersedes the earlier copies), computed as for add-column;
//   append {"fields": ["id", "name", ...], "rows": [[1, "a"], ...]}
//       one new segment holding those rows, row IDs from next_row_id on (an
//       object_ref field's values are their JSON text; in a format 3
//       dataset the group then names its object list, docs/manifest.md
//       "Object lists", written here with DuckDB);
//   delete {"row_ids": [...]}
//       a new delete vector (the old one's row IDs plus these) for every
//       segment holding one of them.
// The commit: files first (temporary name, fsync, rename, fsync of the
// directory), then _manifest/<N+1>.json written to a temporary file under
// _manifest/, fsynced and link()ed to its key: EEXIST is a lost race, and the
// whole operation is redone on the new latest version (--retries times,
// default 0: exit 3).  Then the _latest hint.  --hold=FILE: wait until FILE
// exists before the put (tests widen race windows with it); --ready=FILE:
// create FILE when the document is built, before that wait.
// Prints JSON: {"version": committed version, "field_id"?: new field id,
// "first_row_id"?: first row ID of the appended segment, "lost": lost races}.
import { DuckDBInstance } from '@duckdb/node-api';
import {
  readFileSync, readdirSync, writeFileSync, openSync, fsyncSync, closeSync, renameSync,
  linkSync, unlinkSync, statSync, existsSync, mkdirSync,
} from 'node:fs';
import { join, dirname } from 'node:path';
import { randomUUID } from 'node:crypto';

const args = process.argv.slice(2);
const positional = args.filter((a) => !a.startsWith('--'));
const option = (name, dflt) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? dflt : a.slice(name.length + 3);
};
const [root, command, json] = positional;
const input = JSON.parse(json ?? '{}');
const hold = option('hold', null);
const ready = option('ready', null);
let retries = Number(option('retries', '0'));
const fail = (msg, code = 1) => { console.error(`foreign_writer: ${msg}`); process.exit(code); };

const key = (n) => `_manifest/${String(n).padStart(20, '0')}.json`;

// The latest version: the largest exact version key (the hint is only a
// lower bound; a listing is cheap on a filesystem).
function latest() {
  const vs = readdirSync(join(root, '_manifest'))
    .map((k) => /^([0-9]{20})\.json$/.exec(k)).filter(Boolean).map((m) => Number(m[1]))
    .filter((v) => v >= 1);
  if (vs.length === 0) fail('no version');
  return Math.max(...vs);
}

function fsyncDir(dir) {
  const fd = openSync(dir, 'r');
  fsyncSync(fd);
  closeSync(fd);
}

// A finished file at its final key: temporary name, fsync, rename, fsync dir.
function publishFile(tmp, path) {
  const fd = openSync(tmp, 'r+');
  fsyncSync(fd);
  closeSync(fd);
  mkdirSync(dirname(join(root, path)), { recursive: true });
  renameSync(tmp, join(root, path));
  fsyncDir(dirname(join(root, path)));
  return { size: statSync(join(root, path)).size, etag: '' };
}

const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
const q = async (sql) => (await con.runAndReadAll(sql)).getRows();
const lit = (s) => `'${String(s).replaceAll("'", "''")}'`;
const ident = (s) => `"${s.replaceAll('"', '""')}"`;

const DUCK = {
  boolean: 'BOOLEAN', int16: 'SMALLINT', int32: 'INTEGER', int64: 'BIGINT', float32: 'FLOAT',
  float64: 'DOUBLE', string: 'VARCHAR', date: 'DATE', json: 'VARCHAR', object_ref: 'JSON',
};

// Write a DuckDB query's rows as a Parquet file with the given field ids
// ({column: id}) and optional footer key-values ({key: value}); returns the
// manifest group (layout parquet).
async function writeGroup(select, fieldIds, rowCount, part, kv = {}) {
  const path = `foreign/${part}/${randomUUID()}.parquet`;
  const tmp = join(root, `foreign-tmp-${randomUUID()}.parquet`);
  const ids = Object.entries(fieldIds).map(([c, id]) => `${ident(c)}: ${id}`).join(', ');
  const kvs = Object.entries(kv).map(([k, v]) => `${ident(k)}: ${lit(v)}`).join(', ');
  await con.run(`COPY (${select}) TO ${lit(tmp)} (FORMAT parquet, FIELD_IDS {${ids}}${kvs ? `, KV_METADATA {${kvs}}` : ''})`);
  const { size, etag } = publishFile(tmp, path);
  const stats = [];
  for (const [c, id] of Object.entries(fieldIds)) {
    const [[nulls, rows]] = await q(
      `SELECT count(*) FILTER (WHERE ${ident(c)} IS NULL), count(*) FROM read_parquet(${lit(join(root, path))})`);
    if (Number(rows) !== rowCount) fail(`${path}: ${rows} rows, expected ${rowCount}`);
    stats.push({ field_id: id, null_count: Number(nulls) });
  }
  return {
    path, layout: 'parquet', field_ids: Object.values(fieldIds).sort((a, b) => a - b),
    size, etag, row_count: rowCount, stats,
  };
}

// The next version's document: a copy of the base with version, parent and
// lineage set (properties, indexes, models carried over).
function successor(base, operation, counts) {
  const doc = JSON.parse(JSON.stringify(base));
  doc.version = base.version + 1;
  doc.parent_version = base.version;
  doc.lineage = {
    operation, writer: 'foreign_writer.mjs (vlake test engine)',
    timestamp_us: Date.now() * 1000, rows_added: 0, rows_deleted: 0, bytes_written: 0,
    models: base.lineage.models, ...counts,
  };
  return doc;
}

// ------------------------------------------------------------ operations
async function addColumn(base, patch = false) {
  const from = base.schema.fields.find((f) => f.name === input.from);
  if (!from) fail(`no field ${input.from}`);
  const old = base.schema.fields.find((f) => f.name === input.name);
  if (patch && !old) fail(`no field ${input.name}`);
  const fid = patch ? old.id : base.schema.next_field_id;
  if (patch) input.type = old.type;
  const doc = successor(base, patch ? 'backfill' : 'add_columns', {});
  if (!patch) {
    doc.schema.next_field_id = fid + 1;
    doc.schema.fields.push({ id: fid, name: input.name, type: input.type, nullable: true });
  }
  let bytes = 0;
  for (const seg of doc.segments) {
    const g = seg.groups.filter((x) => x.field_ids.includes(from.id)).pop();
    if (!g) fail(`segment ${seg.id} has no group holding ${input.from}`);
    const file = join(root, g.path);
    const top = new Set((await q(`DESCRIBE SELECT * FROM read_parquet(${lit(file)})`)).map((r) => r[0]));
    const col = (await q(`SELECT name FROM parquet_schema(${lit(file)}) WHERE field_id = ${from.id}`))
      .map((r) => r[0]).find((n) => top.has(n));
    if (col === undefined) fail(`${g.path}: no column with field id ${from.id}`);
    const select = `SELECT CAST((${input.expr.replace(/\bx\b/g, `(${ident(col)})`)}) AS ${DUCK[input.type]}) AS ${ident(input.name)}
                    FROM read_parquet(${lit(file)}, file_row_number = true) ORDER BY file_row_number`;
    const grp = await writeGroup(select, { [input.name]: fid }, seg.row_count, `s${seg.id}`);
    bytes += grp.size;
    seg.groups.push(grp);
  }
  doc.lineage.bytes_written = bytes;
  return { doc, out: { field_id: fid } };
}

async function append(base) {
  const doc = successor(base, 'append', { rows_added: input.rows.length });
  const first = base.next_row_id;
  const n = input.rows.length;
  const fields = input.fields.map((name) => {
    const f = base.schema.fields.find((x) => x.name === name);
    if (!f || !DUCK[f.type]) fail(`field ${name}: missing or not writable here`);
    return f;
  });
  for (const f of base.schema.fields)
    if (!f.nullable && !fields.includes(f)) fail(`field ${f.name} is NOT NULL: the segment must hold it`);
  const value = (v, f) => (v === null ? 'NULL' : `CAST(${typeof v === 'number' ? v : lit(v)} AS ${DUCK[f.type]})`);
  const rows = input.rows.map((r, i) => `(${i}, ${r.map((v, k) => value(v, fields[k])).join(', ')})`);
  const select = `SELECT ${fields.map((f, k) => `col${k + 1} AS ${ident(f.name)}`).join(', ')}
                  FROM (VALUES ${rows.join(', ')}) AS v(ord, ${fields.map((_, k) => `col${k + 1}`).join(', ')})
                  ORDER BY ord`;
  const id = Math.max(0, ...base.segments.map((s) => s.id)) + 1;
  // the informational footer key of docs/manifest.md (the manifest's range
  // is authoritative)
  const grp = await writeGroup(select, Object.fromEntries(fields.map((f) => [f.name, f.id])), n, `s${id}`,
    { 'vlake.first_row_id': String(first) });
  // the object list of the group's object_ref fields: one row per non-null
  // reference, sorted by (uri, row_id)
  const refs = fields.filter((f) => f.type === 'object_ref');
  if (refs.length > 0 && doc.format_version >= 3) {
    const parts = refs.map((f) => {
      const k = fields.indexOf(f) + 1;
      return `SELECT json_extract_string(col${k}, '$.uri') AS uri, CAST(${first} + ord AS BIGINT) AS row_id,
                     CAST(${f.id} AS INTEGER) AS field_id, CAST(json_extract(col${k}, '$.size') AS BIGINT) AS size,
                     json_extract_string(col${k}, '$.sha256') AS sha256, json_extract_string(col${k}, '$.mime') AS mime
                FROM (VALUES ${rows.join(', ')}) AS v(ord, ${fields.map((_, j) => `col${j + 1}`).join(', ')})
               WHERE col${k} IS NOT NULL`;
    });
    const path = `foreign/s${id}/${randomUUID()}.objects.parquet`;
    const tmp = join(root, `foreign-tmp-${randomUUID()}.parquet`);
    await con.run(`COPY (SELECT * FROM (${parts.join(' UNION ALL ')}) ORDER BY uri, row_id) TO ${lit(tmp)} (FORMAT parquet)`);
    const [[count]] = await q(`SELECT count(*) FROM read_parquet(${lit(tmp)})`);
    const { size, etag } = publishFile(tmp, path);
    grp.objects = { path, size, etag, count: Number(count) };
  }
  doc.segments.push({ id, first_row_id: first, end_row_id: first + n, row_count: n, groups: [grp] });
  doc.next_row_id = first + n;
  doc.lineage.bytes_written = grp.size + (grp.objects ? grp.objects.size : 0);
  return { doc, out: { first_row_id: first } };
}

// Portable 64-bit roaring (docs/delete-vectors.md), array containers only.
function roaring64(ids) {
  const byHigh = new Map();
  for (const id of [...new Set(ids)].sort((a, b) => a - b)) {
    const high = Math.floor(id / 2 ** 32);
    if (!byHigh.has(high)) byHigh.set(high, []);
    byHigh.get(high).push(id % 2 ** 32);
  }
  const parts = [];
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(byHigh.size));
  parts.push(head);
  for (const [high, lows] of byHigh) {
    const hb = Buffer.alloc(4);
    hb.writeUInt32LE(high);
    parts.push(hb);
    const containers = new Map();
    for (const x of lows) {
      const k = x >>> 16;
      if (!containers.has(k)) containers.set(k, []);
      containers.get(k).push(x & 0xffff);
    }
    for (const c of containers.values()) if (c.length > 4096) fail('too many deletes for this writer');
    const n = containers.size;
    const hdr = Buffer.alloc(8 + 4 * n + 4 * n);
    hdr.writeUInt32LE(12346, 0);
    hdr.writeUInt32LE(n, 4);
    let i = 0;
    let offset = hdr.length;
    for (const [k, c] of containers) {
      hdr.writeUInt16LE(k, 8 + 4 * i);
      hdr.writeUInt16LE(c.length - 1, 10 + 4 * i);
      hdr.writeUInt32LE(offset, 8 + 4 * n + 4 * i);
      offset += 2 * c.length;
      i++;
    }
    parts.push(hdr);
    for (const c of containers.values()) {
      const b = Buffer.alloc(2 * c.length);
      c.forEach((x, j) => b.writeUInt16LE(x, 2 * j));
      parts.push(b);
    }
  }
  return Buffer.concat(parts);
}

function readRoaring64(path) {
  // the reader of test/tools/table_manifest_read.mjs would do; here only
  // this writer's own vectors and vlake's are read back: use DuckDB-free
  // decoding of array/bitset/run containers
  const b = readFileSync(join(root, path));
  const ids = [];
  let pos = 8;
  const nb = Number(b.readBigUInt64LE(0));
  for (let i = 0; i < nb; i++) {
    const high = b.readUInt32LE(pos); pos += 4;
    const start = pos;
    const word = b.readUInt32LE(pos);
    let n, runs = null;
    if ((word & 0xffff) === 12347) {
      n = (word >>> 16) + 1; pos += 4;
      const bytes = Math.floor((n + 7) / 8);
      runs = b.subarray(pos, pos + bytes); pos += bytes;
    } else if (word === 12346) { n = b.readUInt32LE(pos + 4); pos += 8; } else fail(`${path}: bad cookie`);
    const keys = [], cards = [];
    for (let k = 0; k < n; k++) { keys.push(b.readUInt16LE(pos)); cards.push(b.readUInt16LE(pos + 2) + 1); pos += 4; }
    if (runs === null || n >= 4) pos += 4 * n;
    for (let k = 0; k < n; k++) {
      const base = high * 2 ** 32 + keys[k] * 65536;
      if (runs !== null && (runs[k >> 3] & (1 << (k & 7)))) {
        const nr = b.readUInt16LE(pos); pos += 2;
        for (let r = 0; r < nr; r++) {
          const s = b.readUInt16LE(pos), len = b.readUInt16LE(pos + 2); pos += 4;
          for (let x = s; x <= s + len; x++) ids.push(base + x);
        }
      } else if (cards[k] > 4096) {
        for (let w = 0; w < 8192; w++)
          for (let bit = 0; bit < 8; bit++) if (b[pos + w] & (1 << bit)) ids.push(base + 8 * w + bit);
        pos += 8192;
      } else {
        for (let x = 0; x < cards[k]; x++) ids.push(base + b.readUInt16LE(pos + 2 * x));
        pos += 2 * cards[k];
      }
    }
    void start;
  }
  return ids;
}

async function del(base) {
  const doc = successor(base, 'delete', { rows_deleted: input.row_ids.length });
  let bytes = 0;
  for (const seg of doc.segments) {
    const mine = input.row_ids.filter((r) => r >= seg.first_row_id && r < seg.end_row_id);
    if (mine.length === 0) continue;
    const old = seg.deletes ? readRoaring64(seg.deletes.path) : [];
    const all = [...new Set([...old, ...mine])];
    const path = `foreign/deletes/${seg.id}-${randomUUID()}.bin`;
    const tmp = join(root, `foreign-tmp-${randomUUID()}.bin`);
    writeFileSync(tmp, roaring64(all));
    const { size, etag } = publishFile(tmp, path);
    seg.deletes = { path, cardinality: all.length, size, etag };
    bytes += size;
  }
  doc.lineage.bytes_written = bytes;
  return { doc, out: {} };
}

// ---------------------------------------------------------------- commit
async function waitHold() {
  if (ready) writeFileSync(ready, '');
  if (!hold) return;
  while (!existsSync(hold)) await new Promise((r) => setTimeout(r, 50));
}

let lost = 0;
for (;;) {
  const n = latest();
  const base = JSON.parse(readFileSync(join(root, key(n)), 'utf8'));
  if (base.format !== 'vlake.manifest' || ![1, 2, 3].includes(base.format_version)) fail('unsupported manifest');
  const op = { 'add-column': addColumn, 'patch-column': (b) => addColumn(b, true), append, delete: del }[command];
  if (!op) fail(`unknown command ${command}`);
  const { doc, out } = await op(base);
  await waitHold();
  const tmp = join(root, '_manifest', `.foreign-tmp-${randomUUID()}`);
  writeFileSync(tmp, JSON.stringify(doc, null, 1) + '\n');
  const fd = openSync(tmp, 'r+');
  fsyncSync(fd);
  closeSync(fd);
  try {
    linkSync(tmp, join(root, key(doc.version)));
  } catch (e) {
    unlinkSync(tmp);
    if (e.code !== 'EEXIST') throw e;
    lost++;
    if (retries-- > 0) continue;          // redo on the new latest version
    console.log(JSON.stringify({ version: null, lost }));
    process.exit(3);
  }
  unlinkSync(tmp);
  fsyncDir(join(root, '_manifest'));
  writeFileSync(join(root, '_manifest', '_latest'), `${doc.version}\n`);
  console.log(JSON.stringify({ version: doc.version, lost, ...out }));
  break;
}

// manifest_check.mjs — an independent reader of vlake manifest documents
// (docs/manifest.md), used by unit_manifest as an oracle: every document the
// C encoder writes must parse with JSON.parse and satisfy the structural
// rules below, checked here without any vlake code.  No dependencies.
//
//   node test/tools/manifest_check.mjs FILE...     exit 1 on the first problem
import { readFileSync } from 'node:fs';

const MAX_INT = Number.MAX_SAFE_INTEGER; // 2^53 - 1
const isInt = (v, min = 0, max = MAX_INT) => Number.isSafeInteger(v) && v >= min && v <= max;
const isStr = (v) => typeof v === 'string';
const relPath = (p) => isStr(p) && p.length > 0 && !p.startsWith('/') && !p.startsWith('_manifest/') &&
  p.split('/').every((s, i, a) => (s !== '' || i === a.length - 1) && s !== '.' && s !== '..');

function check(doc, file) {
  const fail = (what) => { throw new Error(`${file}: ${what}`); };
  const keys = (o, allowed, where) => {
    if (o === null || typeof o !== 'object' || Array.isArray(o)) fail(`${where}: not an object`);
    for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(`${where}.${k}: unknown key`);
  };
  keys(doc, ['format', 'format_version', 'dataset_id', 'version', 'parent_version', 'next_row_id',
    'schema', 'segments', 'indexes', 'lineage', 'properties'], '(root)');
  // format 2 = format 1 + the field type object_ref; 3 = 2 + a group's object list
  if (doc.format !== 'vlake.manifest' || ![1, 2, 3].includes(doc.format_version)) fail('format');
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(doc.dataset_id)) fail('dataset_id');
  if (!isInt(doc.version, 1)) fail('version');
  if (doc.parent_version !== (doc.version === 1 ? null : doc.version - 1)) fail('parent_version');
  if (!isInt(doc.next_row_id)) fail('next_row_id');

  const fields = new Map();
  if (!isInt(doc.schema.next_field_id, 1)) fail('schema.next_field_id');
  doc.schema.fields.forEach((f, i) => {
    if (!isInt(f.id, 1, doc.schema.next_field_id - 1) || fields.has(f.id)) fail(`schema.fields[${i}].id`);
    if (typeof f.nullable !== 'boolean') fail(`schema.fields[${i}].nullable`);
    if (f.type === 'object_ref' && doc.format_version < 2) fail(`schema.fields[${i}].type: object_ref in format 1`);
    if (f.type === 'vector' && (!isInt(f.dim, 1, 16000) || !['float32', 'float16'].includes(f.element)))
      fail(`schema.fields[${i}]: vector`);
    fields.set(f.id, f);
  });

  const paths = new Set();
  let end = 0;
  doc.segments.forEach((s, i) => {
    const at = `segments[${i}]`;
    if (!isInt(s.first_row_id) || s.first_row_id < end) fail(`${at}.first_row_id: overlaps`);
    if (!isInt(s.end_row_id, s.first_row_id + 1, doc.next_row_id)) fail(`${at}.end_row_id`);
    if (s.row_count !== s.end_row_id - s.first_row_id) fail(`${at}.row_count`);
    end = s.end_row_id;
    const held = new Set();
    s.groups.forEach((g, j) => {
      const inGroup = new Set();   // a later group may hold a field again (it supersedes)
      const gat = `${at}.groups[${j}]`;
      if (!relPath(g.path) || paths.has(g.path)) fail(`${gat}.path`);
      paths.add(g.path);
      if (!['parquet', 'vector_cg', 'long_text'].includes(g.layout)) fail(`${gat}.layout`);
      for (const id of g.field_ids) {
        if (!fields.has(id) || inGroup.has(id)) fail(`${gat}.field_ids: ${id}`);
        inGroup.add(id);
        held.add(id);
      }
      if (!isInt(g.size) || !isStr(g.etag) || g.row_count !== s.row_count) fail(`${gat}: size/etag/row_count`);
      for (const st of g.stats) {
        if (!g.field_ids.includes(st.field_id) || !isInt(st.null_count, 0, g.row_count)) fail(`${gat}.stats`);
        if (('min' in st) !== ('max' in st)) fail(`${gat}.stats: min without max`);
        if ('min' in st && (!isStr(st.min) || !isStr(st.max))) fail(`${gat}.stats: min/max are strings`);
      }
      if ('objects' in g) {
        const o = g.objects;
        keys(o, ['path', 'size', 'etag', 'count'], `${gat}.objects`);
        if (doc.format_version < 3) fail(`${gat}.objects: an object list in format ${doc.format_version}`);
        const refs = g.field_ids.filter((id) => fields.get(id).type === 'object_ref').length;
        if (refs === 0) fail(`${gat}.objects: no object_ref field in the group`);
        if (!relPath(o.path) || paths.has(o.path)) fail(`${gat}.objects.path`);
        paths.add(o.path);
        if (!isInt(o.size) || !isStr(o.etag) || !isInt(o.count, 0, g.row_count * refs))
          fail(`${gat}.objects: size/etag/count`);
      }
    });
    for (const f of fields.values()) if (!f.nullable && !held.has(f.id)) fail(`${at}: field ${f.id} missing`);
    if (s.deletes) {
      if (!relPath(s.deletes.path) || paths.has(s.deletes.path)) fail(`${at}.deletes.path`);
      paths.add(s.deletes.path);
      if (!isInt(s.deletes.cardinality, 1, s.row_count)) fail(`${at}.deletes.cardinality`);
    }
  });
  const indexNames = new Set();
  doc.indexes.forEach((x, i) => {
    const at = `indexes[${i}]`;
    keys(x, ['name', 'type', 'field_id', 'params', 'data_version', 'first_row_id', 'end_row_id',
      'location'], at);
    const bytes = (t) => Buffer.byteLength(t, 'utf8');
    if (!isStr(x.name) || bytes(x.name) < 1 || bytes(x.name) > 63 || indexNames.has(x.name)) fail(`${at}.name`);
    indexNames.add(x.name);
    if (!isStr(x.type) || !/^[a-z][a-z0-9_]{0,31}$/.test(x.type)) fail(`${at}.type`);
    if (!fields.has(x.field_id) || !isInt(x.data_version, 1, doc.version)) fail(at);
    if (!isInt(x.first_row_id) || !isInt(x.end_row_id, x.first_row_id, doc.next_row_id)) fail(`${at}: row range`);
    keys(x.params, Object.keys(x.params), `${at}.params`);
    if (Object.keys(x.params).length > 64) fail(`${at}.params: too many`);
    for (const [k, v] of Object.entries(x.params))
      if (!isStr(v) || bytes(k) < 1 || bytes(k) > 256 || bytes(v) > 4096) fail(`${at}.params.${k}`);
    const absolute = isStr(x.location) && /^(s3:\/\/|file:\/\/\/)/.test(x.location);
    if (!isStr(x.location) || bytes(x.location) > 1024 || (!absolute && !relPath(x.location)))
      fail(`${at}.location`);
  });
  const l = doc.lineage;
  if (!/^[a-z][a-z0-9_]{0,31}$/.test(l.operation) || !isStr(l.writer) || !isInt(l.timestamp_us)) fail('lineage');
  for (const m of l.models) if (fields.get(m.field_id)?.type !== 'vector') fail('lineage.models');
  for (const v of Object.values(doc.properties)) if (!isStr(v)) fail('properties');
}

let n = 0;
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, 'utf8');
  check(JSON.parse(text), file);
  n++;
}
console.log(`manifest_check: ${n} documents ok`);

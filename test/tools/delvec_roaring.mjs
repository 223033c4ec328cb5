// delvec_roaring.mjs — an independent reader of vlake delete vectors
// (docs/delete-vectors.md), the interop oracle of unit_lake_delvec_interop.
//
//   node delvec_roaring.mjs DIR
//
// For every DIR/<name>.bin (written by `unit_lake_delvec --samples DIR`)
// with its DIR/<name>.txt (the row IDs, ascending, one per line):
//  - walks the 64-bit envelope of the RoaringFormatSpec ("Extension for
//    64-bit implementations": uint64 bucket count, then per bucket a uint32
//    key and a 32-bit portable bitmap, little-endian) with its own code,
//    measuring each 32-bit bitmap from the spec's layout rules;
//  - reads each 32-bit bitmap with roaring-wasm (CRoaring compiled to
//    WebAssembly, a different and newer CRoaring than Debian's libroaring)
//    and compares the row IDs with the .txt file;
//  - re-serializes each bucket with roaring-wasm (run-optimized, portable)
//    and requires the very bytes vlake wrote.
// Prints one line per file; exit status 1 on any difference.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { roaringLibraryInitialize, RoaringBitmap32 } from 'roaring-wasm';

const SERIAL_COOKIE_NO_RUNCONTAINER = 12346;
const SERIAL_COOKIE = 12347;
const NO_OFFSET_THRESHOLD = 4;

// Size in bytes of the 32-bit portable bitmap at b[pos...], from the spec.
function bitmap32Size(b, pos) {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const start = pos;
  const cookie = v.getUint32(pos, true);
  let size, runFlags = null;
  if (cookie === SERIAL_COOKIE_NO_RUNCONTAINER) {
    size = v.getUint32(pos + 4, true);
    pos += 8;
  } else if ((cookie & 0xffff) === SERIAL_COOKIE) {
    size = (cookie >>> 16) + 1;
    pos += 4;
    runFlags = b.subarray(pos, pos + Math.floor((size + 7) / 8));
    pos += runFlags.length;
  } else {
    throw new Error(`bad cookie ${cookie} at ${start}`);
  }
  const desc = pos;
  pos += 4 * size;
  if (runFlags === null || size >= NO_OFFSET_THRESHOLD) pos += 4 * size;
  for (let i = 0; i < size; i++) {
    const card = v.getUint16(desc + 4 * i + 2, true) + 1;
    if (runFlags !== null && (runFlags[i >> 3] & (1 << (i & 7)))) {
      pos += 2 + 4 * v.getUint16(pos, true);
    } else if (card <= 4096) {
      pos += 2 * card;
    } else {
      pos += 8192;
    }
  }
  return pos - start;
}

function check(bin, txt) {
  const b = new Uint8Array(readFileSync(bin));
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const expected = readFileSync(txt, 'utf8').split('\n').filter((l) => l !== '').map(BigInt);
  const count = v.getBigUint64(0, true);
  let pos = 8;
  let prevKey = -1;
  const got = [];
  let sameBytes = true;
  for (let k = 0n; k < count; k++) {
    const key = v.getUint32(pos, true);
    if (key <= prevKey) throw new Error(`${bin}: keys not ascending at ${pos}`);
    prevKey = key;
    pos += 4;
    const len = bitmap32Size(b, pos);
    const bytes = b.subarray(pos, pos + len);
    const bm = RoaringBitmap32.deserialize('portable', bytes);
    const high = BigInt(key) << 32n;
    for (const low of bm.toUint32Array()) got.push(high | BigInt(low));
    bm.runOptimize();
    const again = bm.serialize('portable');
    if (again.length !== len || !again.every((x, i) => x === bytes[i])) sameBytes = false;
    bm.dispose();
    pos += len;
  }
  if (pos !== b.length) throw new Error(`${bin}: ${b.length - pos} bytes after the last bucket`);
  const same = got.length === expected.length && got.every((x, i) => x === expected[i]);
  return { same, sameBytes, n: got.length, buckets: count, size: b.length };
}

await roaringLibraryInitialize();
const dir = process.argv[2];
if (!dir) {
  console.error('usage: node delvec_roaring.mjs DIR');
  process.exit(2);
}
let failed = 0;
let files = 0;
for (const f of readdirSync(dir).filter((n) => n.endsWith('.bin')).sort()) {
  files++;
  const name = f.slice(0, -4);
  try {
    const r = check(join(dir, f), join(dir, `${name}.txt`));
    const ok = r.same && r.sameBytes;
    if (!ok) failed++;
    console.log(`${ok ? 'ok' : 'FAILED'} ${name}: ${r.n} row IDs in ${r.buckets} buckets, ` +
      `${r.size} bytes; values ${r.same ? 'equal' : 'DIFFER'}, ` +
      `roaring-wasm bytes ${r.sameBytes ? 'identical' : 'DIFFER'}`);
  } catch (e) {
    failed++;
    console.log(`FAILED ${name}: ${e.message}`);
  }
}
if (files === 0) {
  console.error(`no .bin files in ${dir}`);
  process.exit(1);
}
process.exit(failed ? 1 : 0);

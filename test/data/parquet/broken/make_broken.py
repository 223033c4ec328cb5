#!/usr/bin/env python3
"""Writes the corpus of deliberately broken Parquet files used by
sql/parquet_read_broken.sql (checked in; rerun only to change it).

Files are assembled from scratch, from the Parquet specification, with a
tiny Thrift compact-protocol encoder, so each defect is placed exactly:

  ../legacy_shapes.parquet  valid: bare REPEATED int32, legacy 2-level
                         LIST, a struct, INT96 timestamps (see
                         build_legacy_shapes)
  good.parquet           valid: id INT64 REQUIRED (100..109, PLAIN,
                         uncompressed), s BYTE_ARRAY UTF8 OPTIONAL
                         (dictionary {apple, pear}, row 3 null, GZIP)
  and one file per defect (see MUTATIONS below).

  python3 test/data/parquet/broken/make_broken.py test/data/parquet/broken
"""
import struct
import sys
import zlib

OUT = sys.argv[1] if len(sys.argv) > 1 else "."

# ---- Thrift compact protocol ---------------------------------------------
T_TRUE, T_FALSE, T_I8, T_I16, T_I32, T_I64, T_DOUBLE, T_BINARY, T_LIST, T_SET, T_MAP, T_STRUCT = range(1, 13)


def uvarint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zigzag(n):
    return (n << 1) ^ (n >> 63)


class W:
    def __init__(self):
        self.b = bytearray()
        self.last = [0]

    def field(self, fid, t):
        d = fid - self.last[-1]
        if 0 < d <= 15:
            self.b.append((d << 4) | t)
        else:
            self.b.append(t)
            self.b += uvarint(zigzag(fid))
        self.last[-1] = fid

    def i32(self, fid, v):
        self.field(fid, T_I32)
        self.b += uvarint(zigzag(v) & 0xFFFFFFFFFFFFFFFF)

    def i64(self, fid, v):
        self.field(fid, T_I64)
        self.b += uvarint(zigzag(v) & 0xFFFFFFFFFFFFFFFF)

    def binary(self, fid, data):
        if isinstance(data, str):
            data = data.encode()
        self.field(fid, T_BINARY)
        self.b += uvarint(len(data)) + data

    def begin(self, fid=None):
        if fid is not None:
            self.field(fid, T_STRUCT)
        self.last.append(0)

    def end(self):
        self.b.append(0)
        self.last.pop()

    def list(self, fid, etype, n, raw_count=None):
        self.field(fid, T_LIST)
        count = n if raw_count is None else raw_count
        if count < 15:
            self.b.append((count << 4) | etype)
        else:
            self.b.append(0xF0 | etype)
            self.b += uvarint(count)

    def elem_i32(self, v):
        self.b += uvarint(zigzag(v))

    def elem_binary(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.b += uvarint(len(data)) + data


# ---- the good file, with hooks for defects ---------------------------------
ROWS = 10
NULL_ROW = 3
DICT = [b"apple", b"pear"]


def page_header(ptype, usize, csize, num_values, encoding, dict_page=False):
    w = W()
    w.begin()
    w.i32(1, ptype)
    w.i32(2, usize)
    w.i32(3, csize)
    if dict_page:
        w.begin(7)
        w.i32(1, num_values)
        w.i32(2, encoding)
        w.end()
    else:
        w.begin(5)
        w.i32(1, num_values)
        w.i32(2, encoding)
        w.i32(3, 3)  # RLE definition levels
        w.i32(4, 3)  # RLE repetition levels
        w.end()
    w.end()
    return bytes(w.b)


def bitpack(values, bw):
    """RLE/bit-packed hybrid: one bit-packed run (groups of 8, LSB first)."""
    groups = (len(values) + 7) // 8
    vals = values + [0] * (groups * 8 - len(values))
    acc = 0
    nbits = 0
    out = bytearray()
    for v in vals:
        acc |= v << nbits
        nbits += bw
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    return uvarint((groups << 1) | 1) + bytes(out)


def gzip(data):
    c = zlib.compressobj(6, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


def build(m=frozenset(), **kw):
    out = bytearray(b"PAR1")

    # column id: one PLAIN data page, uncompressed, required (no levels)
    id_body = b"".join(struct.pack("<q", 100 + i) for i in range(ROWS))
    id_off = len(out)
    out += page_header(0, len(id_body), len(id_body), ROWS, 0) + id_body
    id_len = len(out) - id_off

    # column s: dictionary page + data page with def levels, gzip
    dict_values = [b"pe\xffar", DICT[1]] if "invalid_utf8" in m else DICT
    dict_plain = b"".join(struct.pack("<I", len(v)) + v for v in dict_values)
    dict_z = gzip(dict_plain)
    dict_usize = len(dict_plain) * (2 if "size_lie" in m else 1)
    s_off = len(out)
    out += page_header(2, dict_usize, len(dict_z), len(DICT), 2, dict_page=True) + dict_z
    data_off = len(out)
    defs = [0 if i == NULL_ROW else 1 for i in range(ROWS)]
    levels = bitpack(defs, 1)
    if "def_level_too_big" in m:
        levels = uvarint(ROWS << 1) + bytes([3])  # one RLE run of level 3 > max 1
    idx = [i % 2 for i in range(ROWS - 1)]
    if "bad_dict_index" in m:
        idx[4] = 9
    values = bytes([4 if "bad_dict_index" in m else 1]) + bitpack(idx, 4 if "bad_dict_index" in m else 1)
    body = struct.pack("<I", len(levels)) + levels + values
    body_z = gzip(body)
    usize = len(body)
    if "huge_uncompressed" in m:
        usize = 0x7FFFFFFF
    csize = len(body_z)
    if "page_overrun" in m:
        csize += 1000
    out += page_header(0, usize, csize, ROWS, 8) + body_z
    s_len = len(out) - s_off

    # footer
    w = W()
    w.begin()
    w.i32(1, 1)
    w.list(2, T_STRUCT, 3)
    w.begin()
    w.binary(4, "schema")
    w.i32(5, 1_000_000_000 if "huge_num_children" in m else 2)
    w.end()
    w.begin()
    w.i32(1, 2)
    w.i32(3, 0)
    w.binary(4, "id")
    w.end()
    w.begin()
    w.i32(1, 6)
    w.i32(3, 1)
    w.binary(4, "s")
    w.i32(6, 0)
    w.end()
    w.i64(3, ROWS + 1 if "row_count_mismatch" in m else ROWS)
    w.list(4, T_STRUCT, 1, raw_count=0x7FFFFFFF if "huge_list_count" in m else None)
    w.begin()  # RowGroup
    w.list(1, T_STRUCT, 2)
    for name, ptype, off, length, dict_off, codec, enc in (
            ("id", 2, id_off, id_len, None, 0, [0]),
            ("s", 6, data_off, s_len, s_off, 2, [2, 3])):
        w.begin()  # ColumnChunk
        w.i64(2, off)
        w.begin(3)  # ColumnMetaData
        w.i32(1, ptype)
        w.list(2, T_I32, len(enc))
        for e in enc:
            w.elem_i32(e)
        w.list(3, T_BINARY, 1)
        w.elem_binary(name)
        w.i32(4, codec)
        w.i64(5, ROWS)
        w.i64(6, length)
        w.i64(7, length)
        if "offset_past_eof" in m and name == "id":
            w.i64(9, off + 10_000_000)
        else:
            w.i64(9, off)
        if dict_off is not None:
            w.i64(11, dict_off)
        w.end()
        w.end()
    w.i64(2, id_len + s_len)
    w.i64(3, ROWS)
    w.end()
    if "deep_nesting" in m:
        # unknown field 20: a list of lists of lists ... 100 deep
        w.field(20, T_LIST)
        w.b += bytes([0x19] * 100)
    w.binary(6, "vlake make_broken.py")
    w.end()
    footer = bytes(w.b)
    out += footer
    out += struct.pack("<I", 0x7FFFFFF0 if "footer_len_too_big" in m else len(footer))
    out += b"PARE" if "encrypted_footer" in m else b"PAR1"
    if "bad_magic" in m:
        out[0:4] = b"PAR0"
    if "truncated_footer" in m:
        # drop the middle of the footer but keep its length and magic
        cut = len(out) - 8 - len(footer) // 2
        out = out[:cut - 10] + out[cut:]
    return bytes(out)


def build_legacy_shapes():
    """Valid file with the shapes older writers produce: a bare REPEATED
    primitive, a legacy 2-level LIST, a struct (not readable by vlake) and
    an INT96 timestamp.  Three rows:
      r = [1,2], [], [3]; l = [10], NULL, []; st = (a, b); ts = 2020-01-01 0h/1h/2h + .123456 s
    """
    out = bytearray(b"PAR1")
    chunks = []

    def data_page(values_plain, nvals, rep=None, rep_bw=0, defs=None, def_bw=0):
        body = b""
        if rep is not None:
            lv = bitpack(rep, rep_bw)
            body += struct.pack("<I", len(lv)) + lv
        if defs is not None:
            lv = bitpack(defs, def_bw)
            body += struct.pack("<I", len(lv)) + lv
        body += values_plain
        return page_header(0, len(body), len(body), nvals, 0) + body

    def add_chunk(name_path, ptype, page, nvals):
        off = len(out)
        out.extend(page)
        chunks.append((name_path, ptype, off, len(page), nvals))

    i32 = lambda vs: b"".join(struct.pack("<i", v) for v in vs)
    add_chunk(["r"], 1, data_page(i32([1, 2, 3]), 4, [0, 1, 0, 0], 1, [1, 1, 0, 1], 1), 4)
    add_chunk(["l", "element"], 1, data_page(i32([10]), 3, [0, 0, 0], 1, [2, 0, 1], 2), 3)
    add_chunk(["st", "a"], 1, data_page(i32([1, 2, 3]), 3), 3)
    add_chunk(["st", "b"], 1, data_page(i32([4, 5, 6]), 3), 3)
    julian = 2458850  # 2020-01-01
    ts = b"".join(struct.pack("<qi", h * 3600 * 10**9 + 123456789, julian) for h in range(3))
    add_chunk(["ts"], 3, data_page(ts, 3), 3)

    w = W()
    w.begin()
    w.i32(1, 1)
    schema = [
        dict(name="schema", children=4),
        dict(name="r", type=1, rep=2),
        dict(name="l", rep=1, children=1, converted=3),
        dict(name="element", type=1, rep=2),
        dict(name="st", rep=0, children=2),
        dict(name="a", type=1, rep=0),
        dict(name="b", type=1, rep=0),
        dict(name="ts", type=3, rep=0),
    ]
    w.list(2, T_STRUCT, len(schema))
    for e in schema:
        w.begin()
        if "type" in e:
            w.i32(1, e["type"])
        if "rep" in e:
            w.i32(3, e["rep"])
        w.binary(4, e["name"])
        if "children" in e:
            w.i32(5, e["children"])
        if "converted" in e:
            w.i32(6, e["converted"])
        w.end()
    w.i64(3, 3)
    w.list(4, T_STRUCT, 1)
    w.begin()
    w.list(1, T_STRUCT, len(chunks))
    for path, ptype, off, length, nvals in chunks:
        w.begin()
        w.i64(2, off)
        w.begin(3)
        w.i32(1, ptype)
        w.list(2, T_I32, 2)
        w.elem_i32(0)
        w.elem_i32(3)
        w.list(3, T_BINARY, len(path))
        for part in path:
            w.elem_binary(part)
        w.i32(4, 0)
        w.i64(5, nvals)
        w.i64(6, length)
        w.i64(7, length)
        w.i64(9, off)
        w.end()
        w.end()
    w.i64(2, sum(c[3] for c in chunks))
    w.i64(3, 3)
    w.end()
    w.end()
    footer = bytes(w.b)
    out += footer + struct.pack("<I", len(footer)) + b"PAR1"
    return bytes(out)


MUTATIONS = [
    "truncated_footer", "footer_len_too_big", "bad_magic", "encrypted_footer",
    "huge_list_count", "huge_num_children", "deep_nesting", "row_count_mismatch",
    "offset_past_eof", "page_overrun", "bad_dict_index", "def_level_too_big",
    "size_lie", "huge_uncompressed", "invalid_utf8",
]

if __name__ == "__main__":
    with open(f"{OUT}/good.parquet", "wb") as f:
        f.write(build())
    for mut in MUTATIONS:
        with open(f"{OUT}/{mut}.parquet", "wb") as f:
            f.write(build(frozenset([mut])))
    with open(f"{OUT}/../legacy_shapes.parquet", "wb") as f:
        f.write(build_legacy_shapes())
    with open(f"{OUT}/not_parquet.parquet", "wb") as f:
        f.write(b"id,name\n1,apple\n2,pear\n")
    with open(f"{OUT}/too_small.parquet", "wb") as f:
        f.write(b"PAR1")
    with open(f"{OUT}/empty.parquet", "wb") as f:
        pass
    print("written to", OUT)

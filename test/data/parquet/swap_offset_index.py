#!/usr/bin/env python3
"""Swap two page locations in the OffsetIndex that ends right before the
footer of a Parquet file (the last column chunk's, in files vlake writes):
the file keeps its length but its pages are listed out of order.  Used by
sql/tables_prune.sql to check that readers refuse such a file.

usage: swap_offset_index.py FILE [offsets] [I J]   (pages I and J, default 1
and 2; "offsets": swap only their offsets, which keeps the row order)
"""
import struct
import sys


def varint(b, i):
    v = s = 0
    while True:
        x = b[i]
        i += 1
        v |= (x & 0x7F) << s
        s += 7
        if not x & 0x80:
            return v, i


def page_location(b, i, fields):
    """One PageLocation struct (fields 1..3, integers) from i; its end.
    fields[id] = span of that field's value."""
    fid = 0
    while True:
        h = b[i]
        i += 1
        if h == 0:
            return i
        if h >> 4 == 0 or (h & 0x0F) not in (5, 6):
            raise ValueError
        fid += h >> 4
        if fid > 3:
            raise ValueError
        _, j = varint(b, i)
        fields[fid] = (i, j)
        i = j


def parse_offset_index(b, start, end):
    """Spans of the page locations if an OffsetIndex is exactly b[start:end]."""
    i = start
    if b[i] != 0x19:
        raise ValueError
    i += 1
    if b[i] & 0x0F != 12:
        raise ValueError
    n = b[i] >> 4
    i += 1
    if n == 15:
        n, i = varint(b, i)
    spans = []
    for _ in range(n):
        fields = {}
        j = page_location(b, i, fields)
        spans.append((i, j, fields))
        i = j
    if b[i] != 0 or i + 1 != end:
        raise ValueError
    return spans


def main():
    path = sys.argv[1]
    args = sys.argv[2:]
    offsets = bool(args) and args[0] == "offsets"
    if offsets:
        args = args[1:]
    a, c = (int(args[0]), int(args[1])) if len(args) > 1 else (1, 2)
    b = bytearray(open(path, "rb").read())
    flen = struct.unpack("<I", b[-8:-4])[0]
    end = len(b) - 8 - flen
    for start in range(end - 3, 3, -1):
        try:
            spans = parse_offset_index(b, start, end)
        except (ValueError, IndexError):
            continue
        if len(spans) <= max(a, c):
            continue
        if offsets:
            (s1, e1), (s2, e2) = spans[a][2][1], spans[c][2][1]
            if e1 - s1 != e2 - s2:
                sys.exit("offsets of pages %d and %d differ in length" % (a, c))
        else:
            s1, e1, s2, e2 = spans[a][0], spans[a][1], spans[c][0], spans[c][1]
        b[s1:e2] = b[s2:e2] + b[e1:s2] + b[s1:e1]
        open(path, "wb").write(b)
        return
    sys.exit("no offset index with enough pages before the footer of " + path)


main()

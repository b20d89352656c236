#!/usr/bin/env python3
"""Generate daemon/match_tables.h, the folding and word-character tables of
daemon/match.c, from the Unicode Character Database (Debian: unicode-data).

    contrib/gen-match-tables.py [UCD_DIR] > daemon/match_tables.h

UCD_DIR defaults to /usr/share/unicode and must hold CaseFolding.txt,
UnicodeData.txt, Scripts.txt and Unihan_Variants.txt.bz2 of Unicode 15.0.0.
The output depends only on those files (sorted, no dates): running the
script twice gives the same bytes.

One composed map cp -> cp is built (see fold_step) and iterated to a fixed
point, so that normalising twice changes nothing. It is emitted as:
  - match_ascii_fold[256]: bytes < 0x80 (lower case, white space -> ' ',
    NUL -> 0, meaning dropped);
  - a two-stage table for the BMP (stage 1: a block number per 256 code
    points; stage 2: deduplicated blocks of uint16 targets, 0 = unchanged,
    0xFFFF = the target is outside the BMP, see the astral pairs);
  - match_fold_astral: sorted {from, to} pairs for sources or targets
    outside the BMP (binary search);
  - match_fold_pairs (only with MATCH_TABLES_PAIRS defined, for the unit
    test): the whole map as sorted {from, to} pairs.
match_word_ranges holds the sorted [lo, hi] ranges of word characters.
"""

import bz2
import os
import sys

UCD = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/unicode"
VERSION = "15.0.0"

# Scripts written without spaces between words, or that the matcher treats
# like CJK (Hangul, as documented in match.h): their letters never join
# words.
NO_WORD_SCRIPTS = {
    "Han", "Hiragana", "Katakana", "Hangul", "Bopomofo", "Yi", "Thai", "Lao",
    "Khmer", "Myanmar", "Tibetan", "Tai_Le", "New_Tai_Lue", "Tai_Tham",
    "Tai_Viet", "Javanese", "Balinese", "Nushu", "Tangut",
    "Khitan_Small_Script",
}
WORD_CATEGORIES = {"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Nd"}

# Project additions to the Unicode mappings (match.h): white space, curly
# quotes and apostrophes, dashes.
EXTRA = {}
for cp in [0x00A0, 0x2028, 0x2029, 0x3000] + list(range(0x2000, 0x200C)):
    EXTRA[cp] = 0x20
for cp in (0x2018, 0x2019, 0x201A, 0x201B):
    EXTRA[cp] = 0x27
for cp in (0x201C, 0x201D, 0x201E, 0x201F):
    EXTRA[cp] = 0x22
for cp in list(range(0x2010, 0x2016)) + [0x2212]:
    EXTRA[cp] = 0x2D

# Variant forms that Hong Kong and Taiwan writers use in place of the
# standard traditional character, which Unihan gives no simplified form
# (週 is only a semantic variant of 周) or a rare one (噁 -> U+2BAC7,
# 託 -> 讬, where mainland text writes 恶 and 托). Each maps to the form
# mainland text uses; the fold then carries on from there. Applied before
# kSimplifiedVariant, so these win.
VARIANTS = {
    "週": "周", "裏": "里", "説": "说", "籤": "签", "溼": "湿", "汙": "污",
    "噁": "恶", "燬": "毁", "淨": "净", "凈": "净", "衞": "卫", "爲": "为",
    "綫": "线", "峯": "峰", "羣": "群", "鷄": "鸡", "牀": "床", "喫": "吃",
    "麪": "面", "祕": "秘", "菸": "烟", "託": "托", "箇": "个",
}
VARIANTS = {ord(k): ord(v) for k, v in VARIANTS.items()}


def path(name):
    return os.path.join(UCD, name)


def read_casefolding():
    fold = {}
    with open(path("CaseFolding.txt"), encoding="utf-8") as f:
        head = f.readline()
        if VERSION not in head:
            sys.exit("CaseFolding.txt is not version %s: %s" % (VERSION, head))
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            code, status, mapping = [x.strip() for x in line.split(";")[:3]]
            if status in ("C", "S"):
                fold[int(code, 16)] = int(mapping, 16)
    return fold


def read_unicodedata():
    """Returns (category by code point, width map)."""
    cat = {}
    width = {}
    first = None
    with open(path("UnicodeData.txt"), encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split(";")
            cp = int(fields[0], 16)
            name, gc, decomp = fields[1], fields[2], fields[5]
            if name.endswith(", First>"):
                first = cp
                continue
            if name.endswith(", Last>"):
                for c in range(first, cp + 1):
                    cat[c] = gc
                continue
            cat[cp] = gc
            if decomp.startswith("<wide>") or decomp.startswith("<narrow>"):
                parts = decomp.split()[1:]
                if len(parts) == 1:
                    width[cp] = int(parts[0], 16)
    return cat, width


def read_scripts():
    script = {}
    with open(path("Scripts.txt"), encoding="utf-8") as f:
        head = f.readline()
        if VERSION not in head:
            sys.exit("Scripts.txt is not version %s: %s" % (VERSION, head))
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            rng, name = [x.strip() for x in line.split(";")]
            if ".." in rng:
                lo, hi = [int(x, 16) for x in rng.split("..")]
            else:
                lo = hi = int(rng, 16)
            for c in range(lo, hi + 1):
                script[c] = name
    return script


def read_simplified():
    t2s = {}
    version_ok = False
    with bz2.open(path("Unihan_Variants.txt.bz2"), "rt",
                  encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                if "Unicode version: " + VERSION in line:
                    version_ok = True
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 3 or fields[1] != "kSimplifiedVariant":
                continue
            src = int(fields[0][2:], 16)
            dsts = [int(x[2:], 16) for x in fields[2].split()]
            # The first simplified form other than the character itself
            # (Unihan lists the usual one first: 開 -> 开, 買 -> 买,
            # 裡 -> 里). Folding a little too much is harmless: keywords
            # and text are folded alike.
            others = [d for d in dsts if d != src]
            if not others:
                continue
            t2s[src] = others[0]
    if not version_ok:
        sys.exit("Unihan_Variants.txt is not version %s" % VERSION)
    return t2s


def emit_pairs(w, pairs):
    """Four {a, b} pairs a line."""
    pairs = list(pairs)
    for i in range(0, len(pairs), 4):
        w("\t" + " ".join("{0x%x, 0x%x}," % (a, b) for a, b in pairs[i:i + 4]))


def utf8len(cp):
    return 1 if cp < 0x80 else 2 if cp < 0x800 else 3 if cp < 0x10000 else 4


def main():
    fold = read_casefolding()
    cat, width = read_unicodedata()
    script = read_scripts()
    t2s = read_simplified()

    def fold_step(cp):
        # Width first (U+FF21 -> 'A'), then case ('A' -> 'a'), then
        # variant forms, traditional -> simplified, then the project's
        # additions.
        for table in (width, fold, VARIANTS, t2s, EXTRA):
            if cp in table:
                return table[cp]
        return cp

    sources = sorted(set(width) | set(fold) | set(VARIANTS) | set(t2s) |
                     set(EXTRA))
    final = {}
    for cp in sources:
        seen = [cp]
        cur = cp
        while True:
            nxt = fold_step(cur)
            if nxt == cur:
                break
            if nxt in seen:
                sys.exit("mapping cycle at U+%04X" % cp)
            seen.append(nxt)
            cur = nxt
        if cur != cp:
            final[cp] = cur
    for cp, to in final.items():
        assert to not in final, "not idempotent at U+%04X" % cp
        assert to != 0, "U+%04X maps to NUL" % cp
        assert not (0xD800 <= to <= 0xDFFF)
    growth = max(utf8len(to) / utf8len(cp) for cp, to in final.items())

    # ASCII fast path.
    ascii_fold = []
    for b in range(256):
        if b == 0:
            v = 0
        elif b in (0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20):
            v = 0x20
        elif b < 0x80:
            v = final.get(b, b)
        else:
            v = b  # not used: bytes >= 0x80 take the slow path
        ascii_fold.append(v)

    # Two-stage BMP table.
    astral = {}
    blocks = [tuple([0] * 256)]
    block_index = {blocks[0]: 0}
    stage1 = []
    for hi in range(256):
        vals = []
        for lo in range(256):
            cp = hi << 8 | lo
            to = final.get(cp, cp) if cp >= 0x80 else cp
            if to == cp:
                vals.append(0)
            elif to > 0xFFFF:
                vals.append(0xFFFF)
                astral[cp] = to
            else:
                vals.append(to)
        vals = tuple(vals)
        if vals not in block_index:
            block_index[vals] = len(blocks)
            blocks.append(vals)
        stage1.append(block_index[vals])
    assert len(blocks) < 256
    assert 0xFFFF not in final
    for cp, to in final.items():
        if cp > 0xFFFF:
            astral[cp] = to

    # Word characters.
    word = []
    for cp in range(0x110000):
        gc = cat.get(cp)
        if gc not in WORD_CATEGORIES:
            continue
        sc = script.get(cp, "Unknown")
        if sc in NO_WORD_SCRIPTS:
            continue
        if sc in ("Common", "Inherited", "Unknown") and cp >= 0x2E80 \
                and gc != "Nd":
            continue
        word.append(cp)
    ranges = []
    for cp in word:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])

    out = []
    w = out.append
    w("/* match_tables: GENERATED by contrib/gen-match-tables.py from the")
    w(" * Unicode Character Database %s (Debian package unicode-data):" %
      VERSION)
    w(" * CaseFolding.txt (statuses C and S), UnicodeData.txt (<wide> and")
    w(" * <narrow> decompositions, general categories), Scripts.txt and")
    w(" * Unihan_Variants.txt (kSimplifiedVariant, first other form), with")
    w(" * the script's VARIANTS list first. Do not edit; rerun the script.")
    w(" * Data (c) 1991-2022 Unicode, Inc., used")
    w(" * under the Unicode, Inc. License Agreement - Data Files and Software")
    w(" * (https://www.unicode.org/license.txt, see also")
    w(" * /usr/share/doc/unicode-data/copyright). */")
    w("#ifndef PEAKQ_MATCH_TABLES_H")
    w("#define PEAKQ_MATCH_TABLES_H")
    w("")
    w("/* clang-format off */")
    w("#include <stdint.h>")
    w("")
    w("/* Mappings: %d case folding (C+S), %d width, %d variant forms, %d" %
      (len(fold), len(width), len(VARIANTS), len(t2s)))
    w(" * traditional to simplified, %d project additions; %d code points" %
      (len(EXTRA), len(final)))
    w(" * change in all.")
    w(" * A mapped character's UTF-8 grows by at most this factor: */")
    w("#define MATCH_TABLES_MAX_GROWTH %.1f" % growth)
    w("#define MATCH_TABLES_NFOLD %d" % len(final))
    w("")
    w("/* Bytes < 0x80: folded byte, ' ' for white space, 0 for NUL. */")
    w("static const unsigned char match_ascii_fold[256] = {")
    for i in range(0, 256, 12):
        w("\t" + " ".join("0x%02x," % v for v in ascii_fold[i:i + 12]))
    w("};")
    w("")
    w("/* BMP: target = match_fold_stage2[match_fold_stage1[cp >> 8]]"
      "[cp & 0xff];")
    w(" * 0 = unchanged, 0xFFFF = see match_fold_astral. */")
    w("static const uint8_t match_fold_stage1[256] = {")
    for i in range(0, 256, 16):
        w("\t" + " ".join("%d," % v for v in stage1[i:i + 16]))
    w("};")
    w("")
    w("static const uint16_t match_fold_stage2[%d][256] = {" % len(blocks))
    for b in blocks:
        w("\t{")
        for i in range(0, 256, 16):
            w("\t\t" + ",".join("0x%x" % v if v else "0"
                                 for v in b[i:i + 16]) + ",")
        w("\t},")
    w("};")
    w("")
    w("/* {from, to} sorted by from: sources or targets beyond U+FFFF. */")
    w("static const uint32_t match_fold_astral[%d][2] = {" % len(astral))
    emit_pairs(w, sorted(astral.items()))
    w("};")
    w("")
    w("/* [lo, hi] sorted: letters, marks and decimal digits (L*, M*, Nd)")
    w(" * of scripts written with spaces between words (not Han, kana,")
    w(" * Hangul, Thai, ...; Common and Inherited only below U+2E80, or Nd).")
    w(" */")
    w("static const uint32_t match_word_ranges[%d][2] = {" % len(ranges))
    emit_pairs(w, ranges)
    w("};")
    w("")
    w("#ifdef MATCH_TABLES_PAIRS")
    w("/* The whole map, {from, to} sorted by from (for tests). */")
    w("static const uint32_t match_fold_pairs[%d][2] = {" % len(final))
    emit_pairs(w, sorted(final.items()))
    w("};")
    w("#endif")
    w("")
    w("/* clang-format on */")
    w("#endif")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()

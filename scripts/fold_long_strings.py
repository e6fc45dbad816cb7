#!/usr/bin/env python3
"""Folds Swift lines over 120 columns that swift-format cannot break: the string literals.

A single-line literal "..." that overflows becomes a multi-line literal whose lines end in
a backslash (a continuation: the value is the same string, and the type is still a
literal, so it fits ArgumentHelp, StaticString and the like). A too-long content line of
an existing multi-line literal is continued the same way. Breaks fall on spaces (or between
two HTML tags) outside interpolations, so no word or \\(...) is cut. Run after `swift format -i`.
Usage: scripts/fold_long_strings.py FILE...
"""
import re
import sys

LIMIT = 120


def literal_spans(line):
    """(start, end) of each single-line "..." literal on the line (end exclusive)."""
    spans, i, n = [], 0, len(line)
    while i < n:
        c = line[i]
        if line.startswith('//', i):
            break
        if c == '"' and not line.startswith('"""', i) and (i == 0 or line[i - 1] != '#'):
            j, depth = i + 1, 0
            while j < n:
                if line[j] == '\\' and j + 1 < n:
                    if line[j + 1] == '(':
                        depth += 1
                        j += 2
                        continue
                    j += 2
                    continue
                if depth > 0:
                    if line[j] == '(':
                        depth += 1
                    elif line[j] == ')':
                        depth -= 1
                    elif line[j] == '"':
                        # a string inside an interpolation: skip it
                        k = j + 1
                        while k < n and line[k] != '"':
                            k += 2 if line[k] == '\\' else 1
                        j = k
                    j += 1
                    continue
                if line[j] == '"':
                    break
                j += 1
            spans.append((i, j + 1))
            i = j + 1
            continue
        i += 1
    return spans


def break_points(text):
    """Indexes after which `text` (literal content) may be broken: after a space that is
    outside any interpolation."""
    points, i, depth = [], 0, 0
    while i < len(text):
        if text[i] == '\\' and i + 1 < len(text):
            if text[i + 1] == '(':
                depth += 1
            i += 2
            continue
        if depth > 0:
            if text[i] == '(':
                depth += 1
            elif text[i] == ')':
                depth -= 1
        elif text[i] == ' ' and i + 1 < len(text) and text[i + 1] != ' ':
            points.append(i + 1)
        elif text[i] == '>' and i + 1 < len(text) and text[i + 1] == '<':
            points.append(i + 1)  # between two HTML tags
        i += 1
    return points


def wrap(text, width):
    """Pieces of `text`, each at most `width` where a break allows."""
    pieces, points = [], break_points(text)
    start = 0
    while len(text) - start > width:
        candidates = [p for p in points if start < p <= start + width]
        if not candidates:
            later = [p for p in points if p > start]
            if not later:
                break
            cut = later[0]
        else:
            cut = candidates[-1]
        pieces.append(text[start:cut])
        start = cut
    pieces.append(text[start:])
    return pieces


def fold_file(path):
    lines = open(path, encoding='utf-8').read().split('\n')
    out, changed = [], False
    in_multi = False
    multi_indent = ''
    k = 0
    while k < len(lines):
        line = lines[k]
        stripped = line.strip()
        if in_multi:
            if stripped.startswith('"""'):
                in_multi = False
                out.append(line)
                k += 1
                continue
            if len(line) > LIMIT:
                continued = line.endswith('\\') and not line.endswith('\\\\')
                content = line[len(multi_indent):] if line.startswith(multi_indent) else line.lstrip()
                if continued:
                    content = content[:-1]
                pieces = wrap(content, LIMIT - len(multi_indent) - 1)
                if len(pieces) > 1:
                    for p in pieces[:-1]:
                        out.append(multi_indent + p + '\\')
                    out.append(multi_indent + pieces[-1] + ('\\' if continued else ''))
                    changed = True
                    k += 1
                    continue
            out.append(line)
            k += 1
            continue
        if line.count('"""') == 1 and not stripped.startswith('//'):
            # A multi-line literal opens: its content is stripped of the closing line's indentation.
            in_multi = True
            for later in lines[k + 1:]:
                if later.strip().startswith('"""'):
                    multi_indent = later[:len(later) - len(later.lstrip())]
                    break
            out.append(line)
            k += 1
            continue
        if len(line) > LIMIT and '"' in line:
            spans = [s for s in literal_spans(line) if s[1] - s[0] > 12]
            if spans:
                start, end = max(spans, key=lambda s: s[1] - s[0])
                indent = line[:len(line) - len(line.lstrip())]
                inner = indent + '    '
                content = line[start + 1:end - 1]
                pieces = wrap(content, LIMIT - len(inner) - 1)
                if len(pieces) > 1 and '"""' not in content:
                    head = line[:start] + '"""'
                    tail = inner + '"""' + line[end:]
                    out.append(head)
                    for p in pieces[:-1]:
                        out.append(inner + p + '\\')
                    out.append(inner + pieces[-1])
                    out.append(tail)
                    changed = True
                    k += 1
                    continue
        out.append(line)
        k += 1
    if changed:
        open(path, 'w', encoding='utf-8').write('\n'.join(out))
    return changed


if __name__ == '__main__':
    for p in sys.argv[1:]:
        if fold_file(p):
            print('folded', p)

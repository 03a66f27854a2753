#!/usr/bin/env python3
#===- docs/check_paths.py - Paths named in the docs must exist ------------===#
#
# Part of the Attune project.
#
#===----------------------------------------------------------------------===#
"""Checks that every repository path a document names exists.

    check_paths.py ROOT [FILE...]

With no FILE, checks README.md and every docs/**/*.md under ROOT. A path is
a word that starts with a top-level folder of the repository (`lib/`,
`include/`, `tools/`, `test/`, `bench/`, `scripts/`, ...) or the target of a
relative Markdown link, which is resolved against the document's folder.
`{a, b}` lists are expanded; a path is checked only up to its first
placeholder component (`<target>`, `*`, `...`), so
`fuzz/findings/<target>-crash-<sha1>` requires `fuzz/findings`. Prints one
`FILE:LINE: error: ...` line per missing path and exits 1 if there is any."""

import os
import re
import sys

# The folders a repository path may start with.
TOP = ("bench cmake docs examples fuzz include lib python runtime scripts "
       "test tools unittests").split()

PATH = re.compile(
    r"(?<![\w./\-<>])((?:%s)/[\w./\-<>*]*(?:\{[^}\n]*\}[\w./\-]*)?)" %
    "|".join(TOP))
LINK = re.compile(r"\]\(([^)\s]+)\)")


def expand(path):
    """Expands one `{a, b}` list: `x/{a, b}.h` -> [`x/a.h`, `x/b.h`]."""
    m = re.search(r"\{([^}]*)\}", path)
    if not m:
        return [path]
    return [
        path[:m.start()] + alt.strip() + path[m.end():]
        for alt in m.group(1).split(",")
    ]


def checked_prefix(path):
    """The part of `path` before its first placeholder component."""
    parts = []
    for part in path.split("/"):
        if any(c in part for c in "<>*") or part == "..." or not part:
            break
        parts.append(part)
    return "/".join(parts)


def check_file(root, doc, rel):
    errors = []
    base = os.path.dirname(doc)
    with open(doc, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for number, line in enumerate(lines, 1):
        named = []
        for m in PATH.finditer(line):
            for path in expand(m.group(1)):
                named.append((path.rstrip(".,:;"), root))
        for m in LINK.finditer(line):
            target = m.group(1).split("#")[0]
            if not target or re.match(r"[a-z]+:", target) or \
                    target.startswith("/"):
                continue
            named.append((target, base))
        for path, against in named:
            prefix = checked_prefix(path)
            if prefix and not os.path.exists(os.path.join(against, prefix)):
                errors.append("%s:%d: error: '%s' does not exist" %
                              (rel(doc), number, path))
    return errors


def main(argv):
    if len(argv) < 2:
        print("usage: check_paths.py ROOT [FILE...]", file=sys.stderr)
        return 2
    root = os.path.abspath(argv[1])
    docs = argv[2:]
    if not docs:
        docs = [os.path.join(root, "README.md")]
        for folder, _, files in sorted(os.walk(os.path.join(root, "docs"))):
            docs += [os.path.join(folder, f) for f in sorted(files)
                     if f.endswith(".md")]
    rel = lambda p: os.path.relpath(p, root)
    errors = []
    for doc in docs:
        errors += check_file(root, doc, rel)
    for e in errors:
        print(e)
    print("%d documents, %d missing paths" % (len(docs), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Compiles the C header attunec writes for every spec given, as C11 and as
C++17, with every warning an error: the headers are the CPU target's public
interface, and a spec's argument types decide what they contain.

    compile_headers.py ATTUNEC OUTDIR SPEC...

Prints one line per spec and a summary; exits 1 on the first failure."""

import os
import subprocess
import sys


def main():
    attunec, outdir, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
    main_c = os.path.join(outdir, "main.c")
    with open(main_c, "w") as f:
        f.write("int main(void) { return 0; }\n")
    for spec in specs:
        name = os.path.splitext(os.path.basename(spec))[0]
        obj = os.path.join(outdir, name + ".o")
        subprocess.run([attunec, spec, "--target=cpu", "-o", obj], check=True)
        header = os.path.join(outdir, name + ".h")
        for compiler, std in (("cc", "-std=c11"), ("c++", "-std=c++17")):
            flags = [compiler, std, "-Wall", "-Wextra", "-Werror",
                     "-fsyntax-only", "-include", header]
            if compiler == "c++":
                flags += ["-x", "c++"]
            result = subprocess.run(flags + [main_c], capture_output=True,
                                    text=True)
            if result.returncode != 0:
                print(f"{name}: {compiler} fails:\n{result.stderr}")
                return 1
        print(f"{name}: ok")
    print(f"{len(specs)} headers compile")
    return 0


if __name__ == "__main__":
    sys.exit(main())

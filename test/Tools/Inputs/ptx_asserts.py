#!/usr/bin/env python3
# Prints the messages of the device-side assertions of a PTX file, one per
# line: LLVM's NVPTX backend writes each as a byte array
# (`.global .align 1 .b8 assert_message_N[n] = {...}`).
import re
import sys

for m in re.finditer(r"assert_message_\d+\[\d+\] = \{([0-9, ]*)\}",
                     open(sys.argv[1]).read()):
    print(bytes(int(b) for b in m.group(1).split(",") if b.strip())
          .rstrip(b"\0").decode())

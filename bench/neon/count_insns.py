#!/usr/bin/env python3
"""bench/neon/count_insns.py PROGRAM ARGS... — AArch64 instructions PROGRAM executes under qemu-aarch64.

QEMU's user mode has no instruction counter and Debian's QEMU ships no TCG plugins (libinsn), so this
counts from QEMU's own logs: `-d in_asm` prints each translation block's instructions once, `-d
exec,nochain` one line per executed block (chaining off, so none is skipped); the count is the sum of
the executed blocks' sizes. The log is read through a FIFO, never stored. Prints the program's output,
then "instructions: N".
"""
import os
import re
import subprocess
import sys
import tempfile
import threading

def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="count_insns_")
    fifo = os.path.join(work, "log")
    os.mkfifo(fifo)
    env = dict(os.environ, QEMU_CPU=os.environ.get("QEMU_CPU", "max"))
    proc = subprocess.Popen(["qemu-aarch64", "-d", "in_asm,exec,nochain", "-D", fifo] + sys.argv[1:],
                            stdout=subprocess.PIPE, env=env, text=True)
    out = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read()))
    reader.start()
    size = {}  # block start address -> instructions (the latest translation)
    total = 0
    insn = re.compile(r"^0x([0-9a-f]+):\s")
    trace = re.compile(r"^Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/")
    block, count = None, 0
    with open(fifo) as log:
        for line in log:
            m = trace.match(line)
            if m:
                if block is not None:
                    size[block], block = count, None
                total += size.get(int(m.group(1), 16), 0)
                continue
            m = insn.match(line)
            if m:
                if block is None:
                    block, count = int(m.group(1), 16), 0
                count += 1
            elif block is not None and not line.strip():
                size[block], block = count, None
    reader.join()
    rc = proc.wait()
    os.unlink(fifo)
    os.rmdir(work)
    sys.stdout.write(out[0] if out else "")
    print(f"instructions: {total}")
    return rc

if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Runs a program on a pseudo-terminal and answers its prompts.

usage: pty_run.py OUTFILE ANSWER... -- PROGRAM ARGS...

For each ANSWER it waits until the program's output ends with a prompt (a
line ending in ': '), then types ANSWER and a newline. Everything the
terminal shows (prompts, echo, output) goes to OUTFILE; the exit status is the
program's. Waiting is on the program's output, never on time; the 60-second
guard only turns a hang into a failure.
"""
import os
import pty
import select
import sys

GUARD = 60


def read_some(fd):
    r, _, _ = select.select([fd], [], [], GUARD)
    if not r:
        sys.exit("pty_run: no output for %d s" % GUARD)
    try:
        return os.read(fd, 4096)
    except OSError:  # EIO: the program closed the terminal
        return b""


def main():
    args = sys.argv[1:]
    sep = args.index("--")
    outfile, answers, prog = args[0], args[1:sep], args[sep + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(prog[0], prog)
    seen = b""
    pending = b""
    for answer in answers:
        while not pending.endswith(b": "):
            chunk = read_some(fd)
            if not chunk:
                break
            pending += chunk
        seen += pending
        pending = b""
        try:
            os.write(fd, answer.encode() + b"\n")
        except OSError:
            break
    while True:
        chunk = read_some(fd)
        if not chunk:
            break
        seen += chunk
    _, status = os.waitpid(pid, 0)
    with open(outfile, "wb") as f:
        f.write(seen)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()

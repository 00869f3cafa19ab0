#!/usr/bin/python3
"""Runs a command under a seccomp allow-list, as systemd's SystemCallFilter= does (Debian package python3-seccomp).

Usage: seccomp-exec.py SYSCALL_LIST_FILE eperm|kill COMMAND [ARG...]
  eperm: a call outside the list fails with EPERM (SystemCallErrorNumber=EPERM); kill: it kills the process (SIGSYS),
  systemd's default. The filter is inherited by every child, as under systemd.
"""
import errno
import os
import sys

import seccomp

names = [line.strip() for line in open(sys.argv[1]) if line.strip()]
action = seccomp.ERRNO(errno.EPERM) if sys.argv[2] == 'eperm' else seccomp.KILL_PROCESS
fltr = seccomp.SyscallFilter(defaction=action)
for name in names:
    try:
        fltr.add_rule(seccomp.ALLOW, name)
    except Exception:  # a call this architecture does not have (systemd skips those too)
        pass
fltr.load()
os.execvp(sys.argv[3], sys.argv[3:])

#!/usr/bin/env python3
"""--help and the man page agree: every option a tool's --help names is in
its man page as an option (Fl), and every option the man page lists (the
.It Fl items and the SYNOPSIS) is in --help.  Usage: helpman.py TOOL MAN."""
import re
import subprocess
import sys


def explode(tok):
    # -aVz (letters together, as in a synopsis) is -a -V -z
    if re.fullmatch(r'-[A-Za-z]{2,}', tok):
        return {'-' + c for c in tok[1:]}
    return {tok}


def from_help(tool):
    text = subprocess.run([tool, '--help'], capture_output=True,
                          text=True).stdout
    opts = set()
    for tok in re.findall(r'(?:^|[\s\[|,(])(--?[A-Za-z][-A-Za-z]*)', text):
        opts |= explode(tok)
    return opts


def from_man(path):
    listed, anywhere = set(), set()
    section = ''
    for line in open(path, encoding='utf-8'):
        if line.startswith('.Sh '):
            section = line[4:].strip()
        if not line.startswith('.'):
            continue
        # .Fl takes every argument up to the next macro: ".It Fl -src , -dst"
        in_fl = False
        for tok in line[1:].split():
            if re.fullmatch(r'[A-Z][a-z][a-z]?', tok):
                in_fl = tok == 'Fl'
                continue
            if not in_fl or tok in (',', '|'):
                continue
            if not re.fullmatch(r'-?[A-Za-z][-A-Za-z]*', tok):
                in_fl = False
                continue
            opts = explode('-' + tok)
            anywhere |= opts
            if section == 'SYNOPSIS' or line.startswith('.It'):
                listed |= opts
    return listed, anywhere


tool, man = sys.argv[1], sys.argv[2]
helped = from_help(tool)
listed, anywhere = from_man(man)
bad = 0
for o in sorted(helped - anywhere):
    print(f'{man}: {o} is in {tool} --help but not in the man page')
    bad = 1
for o in sorted(listed - helped):
    print(f'{man}: {o} is in the man page but not in {tool} --help')
    bad = 1
sys.exit(bad)

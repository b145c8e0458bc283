#!/usr/bin/env python3
"""Loghub template attribution with Python's `re`: the peer of benches/eval/loghub.rs.

Reads the Loghub 2k corpora in place (never copies them), extracts each
line's content with the Loghub log-format regex, compiles every template
into an anchored regex (`<*>` -> `.*?`, the rest escaped), and attributes
each content to the most specific matching template (most literal
characters; ties to the first template). Then it times the same attribution
over the contents replicated to at least --mb megabytes, one thread.

Standard library only. Usage:
    python3 benches/python/loghub_re.py [--corpus DIR] [--mb 100]
Prints one `python_re ...` line per system and a `python_re total ...` line.
"""

import argparse
import csv
import os
import re
import sys
import time

SYSTEMS = {
    "HDFS": "<Date> <Time> <Pid> <Level> <Component>: <Content>",
    "OpenSSH": "<Date> <Day> <Time> <Component> sshd\\[<Pid>\\]: <Content>",
    "Zookeeper": "<Date> <Time> - <Level>  \\[<Node>:<Component>@<Id>\\] - <Content>",
}


def format_regex(fmt):
    """Loghub's log-format to regex: fields are lazy, runs of spaces are \\s+."""
    out = ""
    for i, part in enumerate(re.split(r"(<[^<>]+>)", fmt)):
        if i % 2 == 0:
            out += re.sub(" +", r"\\s+", part)
        else:
            out += "(?P<%s>.*?)" % part.strip("<>")
    return re.compile("^" + out + "$")


def template_regex(template):
    return re.compile("^" + ".*?".join(re.escape(p) for p in template.split("<*>")) + "$")


def find_corpus():
    here = os.path.dirname(os.path.abspath(__file__))
    d = here
    while True:
        cand = os.path.join(d, "shared", "corpora", "loghub-2k")
        if os.path.isdir(cand):
            return cand
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def load(corpus, system):
    with open(os.path.join(corpus, f"{system}_2k.log_templates.csv"), newline="") as f:
        templates = [(r["EventId"], r["EventTemplate"]) for r in csv.DictReader(f)]
    with open(os.path.join(corpus, f"{system}_2k.log_structured.csv"), newline="") as f:
        truth = [r["EventId"] for r in csv.DictReader(f)]
    with open(os.path.join(corpus, f"{system}_2k.log"), newline="", encoding="utf-8") as f:
        raw = [l for l in f.read().split("\n") if l.strip()]
    header = format_regex(SYSTEMS[system])
    contents = []
    for line in raw:
        m = header.match(line.strip())
        contents.append(m.group("Content") if m else "")
    return templates, truth, contents


def attribute(compiled, content):
    """The index of the most specific matching template, or -1.

    `compiled` is ordered most specific first, so the first match wins (the
    fastest plain-`re` way to do this attribution)."""
    for i, rx in compiled:
        if rx.match(content):
            return i
    return -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=None)
    ap.add_argument("--mb", type=float, default=100.0)
    args = ap.parse_args()
    corpus = args.corpus or find_corpus()
    if not corpus or not os.path.isdir(corpus):
        print("python_re error: corpus not found", file=sys.stderr)
        return 2

    systems = []
    for system in SYSTEMS:
        templates, truth, contents = load(corpus, system)
        # Most literal characters first; ties keep file order.
        order = sorted(range(len(templates)), key=lambda i: (-len(templates[i][1].replace("<*>", "")), i))
        compiled = [(i, template_regex(templates[i][1])) for i in order]
        ids = [e for e, _ in templates]
        correct = sum(
            1
            for c, want in zip(contents, truth)
            if (lambda i: ids[i] if i >= 0 else None)(attribute(compiled, c)) == want
        )
        systems.append((system, compiled, contents, correct, len(truth)))

    # The timed run: every system's contents, replicated to >= --mb MB.
    base = sum(len(c.encode()) for _, _, contents, _, _ in systems for c in contents)
    reps = max(1, -(-int(args.mb * 1e6) // base))
    total_bytes = total_lines = 0
    total_secs = 0.0
    for system, compiled, contents, correct, n in systems:
        nbytes = sum(len(c.encode()) for c in contents) * reps
        nlines = len(contents) * reps
        start = time.perf_counter()
        checksum = 0
        for _ in range(reps):
            for c in contents:
                checksum += attribute(compiled, c)
        secs = time.perf_counter() - start
        total_bytes += nbytes
        total_lines += nlines
        total_secs += secs
        print(
            f"python_re system={system} accuracy={correct}/{n} bytes={nbytes} lines={nlines} "
            f"seconds={secs:.3f} MBps={nbytes / secs / 1e6:.2f} linesps={nlines / secs:.0f} checksum={checksum}"
        )
    print(
        f"python_re total bytes={total_bytes} lines={total_lines} seconds={total_secs:.3f} "
        f"MBps={total_bytes / total_secs / 1e6:.2f} linesps={total_lines / total_secs:.0f} "
        f"python={sys.version.split()[0]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Summarise slither-mutate logs (scripts/mutate.sh) as a Markdown section for BENCHMARKS.md.

Each log starts with a `# cairn-mutate baseline=… timeout=… mutators=… commit=…` header written by mutate.sh.
Mutants whose test run timed out or did not compile are reported apart and not counted as caught. A log cut
short (the campaign was stopped) is reported with the last line it reached. A `recheck-<run>.log` (written
by `scripts/mutate.sh --recheck`) re-judges the survivors and timeouts of `mutation-<run>.log` against a later suite; its
verdicts replace theirs. `bench/mutation/earlier.md`, when present, is appended as it is (campaigns whose logs
were not kept).
"""
import pathlib
import re
import sys
from collections import Counter, defaultdict

LINE = re.compile(r"\[(\w+)\] Line (\d+): (.*) --> ([A-Z ]+?)( \(recheck\))?$")
VERDICT = {"CAUGHT": "CAUGHT", "UNCAUGHT": "UNCAUGHT", "TIMED OUT": "TIMEOUT", "COMPILATION FAILURE": "FAILED"}

rechecked = {}
rechecks = []
for log in sys.argv[1:]:
    if "/recheck-" not in "/" + log:
        continue
    run = log.rsplit("/", 1)[-1].replace("recheck-", "mutation-")
    for line in open(log, errors="replace"):
        if line.startswith("# cairn-recheck"):
            rechecks.append((run, dict(kv.split("=", 1) for kv in line.split() if "=" in kv)))
        m = LINE.search(line.strip())
        if m:
            rechecked[(run, m.group(1), m.group(2), m.group(3))] = VERDICT[m.group(4)]

per_contract = defaultdict(Counter)
alive = defaultdict(list)
runs = []
for log in sys.argv[1:]:
    if "/recheck-" in "/" + log:
        continue
    name = log.rsplit("/", 1)[-1]
    header = {}
    contract = "?"
    last = {}
    done = set()
    for line in open(log, errors="replace"):
        if line.startswith("# cairn-mutate"):
            header = dict(kv.split("=", 1) for kv in line.split()[2:])
            continue
        m = re.search(r"Mutating contract (\w+)", line)
        if m:
            contract = m.group(1)
            continue
        m = LINE.search(line.strip())
        if m:
            verdict = VERDICT.get(m.group(4), "FAILED")
            if verdict in ("UNCAUGHT", "TIMEOUT"):
                verdict = rechecked.get((name, m.group(1), m.group(2), m.group(3)), verdict)
            per_contract[contract][verdict] += 1
            if verdict in ("UNCAUGHT", "TIMEOUT"):
                alive[contract].append(f"{verdict.lower()}: [{m.group(1)}] line {m.group(2)}: {m.group(3)}")
            last[contract] = f"{m.group(1)} line {m.group(2)}"
        m = re.search(r"Done mutating (\w+)", line)
        if m:
            done.add(m.group(1))
    runs.append((name, header, dict(last), done))

print("## Mutation testing (`make mutate`, issue #3)\n")
print("slither-mutate; each mutant judged by the forge suite (halmos proofs excluded) under the `mutate` profile "
      "with a timeout of 3× the measured baseline. Timed-out and non-compiling mutants are listed apart and not "
      "counted as caught.\n")
print("| run | mutators | baseline | timeout | commit | reached |")
print("|---|---|---|---|---|---|")
for name, h, last, done in runs:
    reached = ", ".join(f"{c} complete" if c in done else f"{c} stopped during {n}" for c, n in last.items())
    print(f"| {name} | {h.get('mutators', '?')} | {h.get('baseline', '?')} s | {h.get('timeout', '?')} s | "
          f"{h.get('commit', '?')} | {reached} |")
for run, h in rechecks:
    print(f"\nSurvivors of {run} re-judged at commit {h.get('commit', '?')} ({h.get('survivors', '?')} mutants; "
          "tests were only added or made stricter since, so earlier catches stand).")
print()
print("| contract | caught | uncaught | timed out | failed to compile | caught / (caught + uncaught + timed out) |")
print("|---|---|---|---|---|---|")
total = Counter()
# A contract none of whose runs reached its end is still being judged: its figures so far are shown but not
# counted in the overall rate, which would otherwise rest on the mutants a partial run happened to reach first.
completed = set().union(*(done for _, _, _, done in runs)) if runs else set()
in_progress = sorted(n for n in per_contract if n not in completed)
for name, c in sorted(per_contract.items()):
    judged = c["CAUGHT"] + c["UNCAUGHT"] + c["TIMEOUT"]
    if name in completed:
        total.update(c)
        rate = f"{100 * c['CAUGHT'] / judged:.0f}%" if judged else "n/a"
    else:
        rate = f"campaign in progress ({judged} judged so far; not in the overall figure)"
    other = sum(v for k, v in c.items() if k not in ("CAUGHT", "UNCAUGHT", "TIMEOUT", "FAILED"))
    print(f"| {name} | {c['CAUGHT']} | {c['UNCAUGHT']} | {c['TIMEOUT']} | {c['FAILED'] + other} | {rate} |")
judged = total["CAUGHT"] + total["UNCAUGHT"] + total["TIMEOUT"]
if judged:
    print(f"\nOverall: {100 * total['CAUGHT'] / judged:.1f}% caught (goal ≥ 90%).")
    print("\nMost survivors below are equivalent mutants, which no test can catch: `i < n` → `i != n` in loops, "
          "`== 0` → `<= 0` and `!= 0` → `> 0` on unsigned values, `== 1` → `<= 1` where the value is known to be "
          "1 or 2, comparisons against an enum's first member.")
for name, lines in sorted(alive.items()):
    print(f"\n<details><summary>{name}: {len(lines)} mutants not caught</summary>\n")
    for line in lines:
        print(f"- `{line}`" if "`" not in line else f"- {line}")
    print("\n</details>")
superseded = pathlib.Path(__file__).resolve().parent.parent / "bench" / "mutation" / "superseded"
stale = {}
for log in sorted(superseded.glob("mutation-*.log")) if superseded.is_dir() else []:
    head = log.read_text(encoding="utf8").split("\n", 1)[0]
    at = re.search(r"commit=(\w+)", head)
    name = log.stem.removeprefix("mutation-").split("-")[0]
    stale.setdefault(name, set()).add(at.group(1) if at else "?")
pending = sorted(n for n in stale if n not in per_contract or n in in_progress)
if pending:
    print("\n**Campaigns to rerun or finish** (their contract's source changed since; earlier logs kept in "
          "`bench/mutation/superseded/`): "
          + ", ".join(f"{n} (last judged at {', '.join(sorted(stale[n]))}"
                      + ("; a fresh campaign is under way" if n in in_progress else "") + ")" for n in pending) + ".")
earlier = pathlib.Path(__file__).resolve().parent.parent / "bench" / "mutation" / "earlier.md"
if earlier.exists():
    print("\n" + earlier.read_text().rstrip("\n"))

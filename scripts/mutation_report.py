#!/usr/bin/env python3
"""Summarise a slither-mutate log (scripts/mutate.sh) as a Markdown section for BENCHMARKS.md.

Mutants whose test run timed out or did not compile are reported apart and not counted as caught.
"""
import re
import sys
from collections import Counter, defaultdict

log, baseline, timeout, mutators = sys.argv[1:5]
per_contract = defaultdict(Counter)
contract = "?"
for line in open(log, errors="replace"):
    m = re.search(r"Mutating contract (\w+)", line)
    if m:
        contract = m.group(1)
        continue
    m = re.search(r"\[(\w+)\] Line \d+: .* --> (\w+)", line)
    if m:
        per_contract[contract][m.group(2).upper()] += 1

print("## Mutation testing (`make mutate`, issue #3)\n")
print(f"slither-mutate with mutators {mutators}; each mutant judged by the forge suite under the `mutate` "
      f"profile, timeout {timeout} s (3× the {baseline} s baseline). Timed-out and non-compiling mutants are "
      "listed apart and not counted as caught.\n")
print("| contract | caught | uncaught | timed out | failed to compile | caught / judged |")
print("|---|---|---|---|---|---|")
total = Counter()
for name, c in sorted(per_contract.items()):
    total.update(c)
    judged = c["CAUGHT"] + c["UNCAUGHT"]
    rate = f"{100 * c['CAUGHT'] / judged:.0f}%" if judged else "n/a"
    other = sum(v for k, v in c.items() if k not in ("CAUGHT", "UNCAUGHT", "TIMEOUT", "FAILED"))
    print(f"| {name} | {c['CAUGHT']} | {c['UNCAUGHT']} | {c['TIMEOUT']} | {c['FAILED'] + other} | {rate} |")
judged = total["CAUGHT"] + total["UNCAUGHT"]
if judged:
    print(f"\nOverall: {100 * total['CAUGHT'] / judged:.1f}% caught (goal ≥ 90%).")

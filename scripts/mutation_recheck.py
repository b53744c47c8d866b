#!/usr/bin/env python3
"""Re-judge the survivors of a mutation campaign against the current test suite (scripts/mutate.sh --recheck).

usage: mutation_recheck.py MUTANTS.jsonl TEST_CMD TIMEOUT COMMIT   (run inside the scratch copy)

MUTANTS.jsonl is written by scripts/slither_mutate.py, one judged mutant per line. Each UNCAUGHT one is
applied again at its byte offsets, which must still hold its original text (otherwise the source changed
since the campaign and the recheck stops: rerun the campaign), and judged like the campaign judges it.
Prints slither-mutate-style lines that scripts/mutation_report.py reads over the campaign's verdicts.
"""
import json
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from slither_mutate import judge  # noqa: E402  (same judge as the campaign)

path, test_cmd, timeout, commit = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
survivors = [m for m in map(json.loads, open(path, encoding="utf8")) if m["verdict"] == "UNCAUGHT"]
print(f"# cairn-recheck of {path.rsplit('/', 1)[-1]} commit={commit} survivors={len(survivors)}", flush=True)
for m in survivors:
    with open(m["file"], "rb") as f:
        original = f.read()
    if original[m["start"] : m["end"]].decode("utf8") != m["old"]:
        sys.exit(
            f"error: {m['file']} changed since the campaign (no '{m['old']}' at bytes {m['start']}..{m['end']});"
            " the survivors cannot be re-judged: rerun `make mutate` for this contract"
        )
    try:
        with open(m["file"], "wb") as f:
            f.write(original[: m["start"]] + m["new"].encode("utf8") + original[m["end"] :])
        verdict = judge(m["file"], timeout, test_cmd)
    finally:
        with open(m["file"], "wb") as f:
            f.write(original)
    print(f"[{m['mutator']}] Line {m['line']}: '{m['old']}' ==> '{m['new']}' --> {verdict} (recheck)", flush=True)

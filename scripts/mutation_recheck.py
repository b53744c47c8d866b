#!/usr/bin/env python3
"""Re-judge the survivors of a mutation campaign against the current test suite (scripts/mutate.sh --recheck).

usage: mutation_recheck.py MUTANTS.jsonl TEST_CMD TIMEOUT COMMIT REPO CAMPAIGN_COMMIT   (in the scratch copy)

MUTANTS.jsonl is written by scripts/slither_mutate.py, one judged mutant per line. Each UNCAUGHT or TIMED OUT
one (a timeout is often a campaign paused or starved of CPU, not a mutant that loops) is applied again at its byte offsets, exactly as slither-mutate applied it, and judged like the campaign
judges it. The mutated file must be byte-identical to its version at CAMPAIGN_COMMIT (read from REPO's
git history), otherwise the offsets mean nothing and the recheck stops: rerun the campaign. (The offsets
cannot be checked against the logged old text: slither-mutate's LOR patches log the whole expression but
replace only part of it.)
Prints slither-mutate-style lines that scripts/mutation_report.py reads over the campaign's verdicts.
"""
import json
import subprocess
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from slither_mutate import judge  # noqa: E402  (same judge as the campaign)

path, test_cmd, timeout, commit, repo, campaign = sys.argv[1:7]
timeout = float(timeout)
survivors = [m for m in map(json.loads, open(path, encoding="utf8")) if m["verdict"] in ("UNCAUGHT", "TIMED OUT")]
print(f"# cairn-recheck of {path.rsplit('/', 1)[-1]} commit={commit} survivors={len(survivors)}", flush=True)
checked = {}
for m in survivors:
    with open(m["file"], "rb") as f:
        original = f.read()
    if m["file"] not in checked:
        then = subprocess.run(["git", "-C", repo, "show", f"{campaign}:{m['file']}"], capture_output=True, check=False)
        checked[m["file"]] = then.returncode == 0 and then.stdout == original
    if not checked[m["file"]]:
        sys.exit(
            f"error: {m['file']} differs from its version at the campaign's commit {campaign}; the survivors"
            " cannot be re-judged: rerun `make mutate` for this contract"
        )
    try:
        with open(m["file"], "wb") as f:
            f.write(original[: m["start"]] + m["new"].encode("utf8") + original[m["end"] :])
        verdict = judge(m["file"], timeout, test_cmd)
    finally:
        with open(m["file"], "wb") as f:
            f.write(original)
    print(f"[{m['mutator']}] Line {m['line']}: '{m['old']}' ==> '{m['new']}' --> {verdict} (recheck)", flush=True)

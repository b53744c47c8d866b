#!/usr/bin/env python3
"""slither-mutate with a faster, stricter judge for each mutant (used by scripts/mutate.sh).

slither-mutate proper generates the mutants and drives the campaign; this wrapper only replaces the step
that judges one mutant:

* Compilation: stock slither-mutate compiles every mutant through crytic-compile, a targeted `forge build`
  with dynamic test linking forced off. That second configuration evicts forge's cache, so the test command
  that follows recompiles the whole project: ~11 s per JobMarket mutant with solcjs. Here the mutant is
  compiled once by `forge build` under the same profile as the tests (~3 s), and `forge test` then
  compiles nothing.
* Timeouts: stock slither-mutate counts a test run that timed out as caught. Here it is logged as
  `--> TIMED OUT` and the report lists it apart.
* Compile failures are always logged (stock: only with -v), so the report can count them.
* Every judged mutant is appended as one JSON line (file, byte offsets, old and new text, verdict) to
  $CAIRN_MUTANTS_JSONL, so `scripts/mutate.sh --recheck` can re-judge the survivors against a later suite
  without rerunning the campaign.
* Resuming: mutants already judged by an earlier run of the same source ($CAIRN_MUTANTS_DONE, a colon-separated
  list of such JSON-lines files, chosen by mutate.sh) are skipped, so a campaign stopped part-way is finished by
  a later run without judging (or counting) a mutant twice.
"""
import json
import logging
import os
import subprocess
import sys

from slither.tools.mutator.mutators import abstract_mutator
from slither.tools.mutator.utils.file_handling import create_mutant_file, reset_file

logger = logging.getLogger("Slither-Mutate")
JSONL = os.environ.get("CAIRN_MUTANTS_JSONL")
CODES = {"UNCAUGHT": 0, "CAUGHT": 1, "TIMED OUT": 1, "COMPILATION FAILURE": 2}


def judged_before() -> dict:
    """(file, start, end, new text) -> verdict, from the earlier runs named in $CAIRN_MUTANTS_DONE."""
    done = {}
    for path in filter(None, os.environ.get("CAIRN_MUTANTS_DONE", "").split(":")):
        with open(path, encoding="utf8") as f:
            for line in f:
                r = json.loads(line)
                done[(r["file"], r["start"], r["end"], r["new"])] = r["verdict"]
    return done


DONE = judged_before()


def judge(file: str, timeout: float, test_cmd: str) -> str:
    """Compile the mutated tree and run the suite: CAUGHT, UNCAUGHT, TIMED OUT or COMPILATION FAILURE."""
    if subprocess.run(["forge", "build"], capture_output=True, check=False).returncode != 0:
        return "COMPILATION FAILURE"
    if "forge test" in test_cmd and "--fail-fast" not in test_cmd:
        test_cmd += " --fail-fast"
    try:
        done = subprocess.run(test_cmd, shell=True, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return "TIMED OUT"
    return "UNCAUGHT" if done.returncode == 0 else "CAUGHT"


def test_patch(output_folder, file, patch, command, generator_name, timeout, mappings, verbose) -> int:
    """Drop-in for slither-mutate's test_patch: 0 uncaught, 1 caught (or timed out), 2 did not compile."""
    earlier = DONE.get((os.path.relpath(file), patch["start"], patch["end"], patch["new_string"]))
    if earlier is not None:
        return CODES[earlier]
    with open(file, "rb") as f:
        original = f.read()
    new = patch["new_string"].encode("utf8")
    with open(file, "wb") as f:
        f.write(original[: patch["start"]] + new + original[patch["end"] :])
    try:
        verdict = judge(file, timeout, command)
        logger.info(
            f"[{generator_name}] Line {patch['line_number']}: '{patch['old_string']}' ==> "
            f"'{patch['new_string']}' --> {verdict}"
        )
        if JSONL:
            with open(JSONL, "a", encoding="utf8") as out:
                record = {
                    "mutator": generator_name,
                    "file": os.path.relpath(file),
                    "line": patch["line_number"],
                    "start": patch["start"],
                    "end": patch["end"],
                    "old": patch["old_string"],
                    "new": patch["new_string"],
                    "verdict": verdict,
                }
                out.write(json.dumps(record) + "\n")
        if verdict == "UNCAUGHT":
            create_mutant_file(output_folder, file, generator_name)  # also restores the file
            return 0
        return 2 if verdict == "COMPILATION FAILURE" else 1
    finally:
        reset_file(file)


abstract_mutator.test_patch = test_patch

if __name__ == "__main__":
    from slither.tools.mutator.__main__ import main

    sys.exit(main())

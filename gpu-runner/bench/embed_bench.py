#!/usr/bin/env python3
"""Embedding throughput: cairn-runner (candle) beside PyTorch sentence-transformers, same machine, same run.

    python embed_bench.py --runner target/release/cairn-runner --model .tools/models/all-MiniLM-L6-v2 \
        --manifest toolchain/all-MiniLM-L6-v2.sha256 --out section.md

Each configuration runs in a fresh process per engine (so peak RSS is that configuration's own).
With --torch-worker it is the PyTorch worker itself. Without a working torch (--python pointing to an
interpreter that lacks it), the section records why and reports candle alone.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WORDS = ("provenance settlement verification operator escrow challenge committee royalty inference "
         "embedding tokenizer transformer market weights receipt ledger auditor buyer seller region "
         "network latency throughput memory signature digest").split()


def short_texts(n):
    return [f"A man is eating food at table {i}." for i in range(n)]


def long_texts(n):
    # ~200 tokens each: 170 words, some split into word pieces.
    return [" ".join(WORDS[(i * 7 + j * 3) % len(WORDS)] for j in range(170)) for i in range(n)]


CONFIGS = [  # (kind, batch, texts, rounds)
    ("short", 1, 256, 3),
    ("short", 32, 1024, 3),
    ("short", 256, 1024, 3),
    ("long", 1, 32, 2),
    ("long", 32, 128, 2),
    ("long", 256, 256, 2),
]


def torch_worker(args):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(args.threads or os.cpu_count())
    texts = json.load(open(args.input))
    model = SentenceTransformer(args.model, device=args.device)
    model.encode(texts[: args.batch], batch_size=args.batch)
    best = float("inf")
    for _ in range(args.rounds):
        start = time.perf_counter()
        model.encode(texts, batch_size=args.batch)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    print(json.dumps({
        "engine": f"sentence-transformers (torch {torch.__version__})",
        "threads": torch.get_num_threads(),
        "batch": args.batch,
        "texts": len(texts),
        "seconds": best,
        "sentences_per_s": len(texts) / best,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def run_json(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed: {out.stderr.strip()[-400:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--torch-worker", action="store_true")
    p.add_argument("--runner")
    p.add_argument("--model", required=True)
    p.add_argument("--manifest")
    p.add_argument("--input")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--python", default=sys.executable, help="interpreter with torch + sentence-transformers")
    p.add_argument("--torch-unavailable", default="", help="why the PyTorch reference could not be installed")
    p.add_argument("--configs", default="", help="comma list of kind:batch to run (default: all)")
    p.add_argument("--out")
    args = p.parse_args()
    if args.torch_worker:
        return torch_worker(args)

    wanted = set(filter(None, args.configs.split(",")))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, batch, count, rounds in CONFIGS:
            if wanted and f"{kind}:{batch}" not in wanted:
                continue
            texts = short_texts(count) if kind == "short" else long_texts(count)
            path = os.path.join(tmp, f"{kind}-{count}.json")
            json.dump(texts, open(path, "w"))
            print(f"embed bench: {kind} batch {batch} ({count} texts)", file=sys.stderr, flush=True)
            runner = [args.runner, "bench", "--model", args.model, "--weights-sha256", WEIGHTS_SHA256,
                      "--manifest", args.manifest, "--input", path, "--batch", str(batch),
                      "--rounds", str(rounds), "--device", args.device, "--json"]
            ours = run_json(runner)
            if batch == 32 and args.device == "cpu":
                # The plain candle-transformers port, for the record of what the fused engine gained.
                plain = run_json(runner + ["--engine", "candle"])
                ours["plain_candle_per_s"] = plain["sentences_per_s"]
            theirs, why = None, args.torch_unavailable
            if not why:
                try:
                    theirs = run_json([args.python, __file__, "--torch-worker", "--model", args.model,
                                       "--input", path, "--batch", str(batch), "--rounds", str(rounds),
                                       "--device", args.device])
                except Exception as err:  # recorded in the table, not hidden
                    why = str(err)
            rows.append((kind, batch, ours, theirs, why))

    lines = [
        f"| input | batch | cairn sentences/s | PyTorch sentences/s | ratio | cairn peak RSS | PyTorch peak RSS |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, batch, ours, theirs, why in rows:
        label = f"{kind} (~{ours['mean_tokens']:.0f} tokens)"
        if theirs:
            ratio = ours["sentences_per_s"] / theirs["sentences_per_s"]
            lines.append(f"| {label} | {batch} | {ours['sentences_per_s']:.1f} | {theirs['sentences_per_s']:.1f} | "
                         f"**{ratio:.2f}×** | {ours['peak_rss_mib']:.0f} MiB | {theirs['peak_rss_mib']:.0f} MiB |")
        else:
            lines.append(f"| {label} | {batch} | {ours['sentences_per_s']:.1f} | n/a ({why}) | n/a | "
                         f"{ours['peak_rss_mib']:.0f} MiB | n/a |")
    plain = [(kind, ours) for kind, batch, ours, _, _ in rows if "plain_candle_per_s" in ours]
    if plain:
        lines.append("")
        lines.append("Same run, batch 32, the plain candle-transformers `BertModel` (`--engine candle`) "
                     "against the default fused engine:")
        lines.append("")
        lines.append("| input | candle-transformers sentences/s | fused sentences/s | speed-up |")
        lines.append("|---|---|---|---|")
        for kind, ours in plain:
            lines.append(f"| {kind} | {ours['plain_candle_per_s']:.1f} | {ours['sentences_per_s']:.1f} | "
                         f"{ours['sentences_per_s'] / ours['plain_candle_per_s']:.2f}× |")
    engine = next((t["engine"] for _, _, _, t, _ in rows if t), "PyTorch: unavailable")
    text = "\n".join(lines) + "\n"
    header = (f"Device `{args.device}`, {rows[0][2]['threads'] if rows else '?'} threads each; reference: {engine}. "
              "Best of the timed rounds after a warm-up; each configuration in a fresh process per engine.\n\n")
    out = header + text
    if args.out:
        open(args.out, "w").write(out)
    print(out)


if __name__ == "__main__":
    main()

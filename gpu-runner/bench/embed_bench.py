#!/usr/bin/env python3
"""Embedding throughput: cairn-runner beside ONNX Runtime and PyTorch sentence-transformers, same machine, same run.

    python embed_bench.py --runner target/release/cairn-runner --model .tools/models/all-MiniLM-L6-v2 \
        --manifest toolchain/all-MiniLM-L6-v2.sha256 --out section.md

Each configuration runs in a fresh process per engine (so peak RSS is that configuration's own).
With --torch-worker / --ort-worker it is that reference's worker itself; --ort-export writes the ONNX graph
(torch's exporter, from the same safetensors) and checks it against sentence-transformers. Without a working
torch or onnxruntime (--python pointing to an interpreter that lacks it), the section records why and
reports what it could measure.
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


def onnx_export(model_dir, path):
    """Exports the model's encoder from its own safetensors to ONNX with torch (opset 17, dynamic batch and
    sequence axes): the graph ONNX Runtime runs in the `--ort-worker`."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel

    class Encoder(torch.nn.Module):
        """The encoder by keyword (transformers' forward() signature moves between versions)."""

        def __init__(self):
            super().__init__()
            self.bert = AutoModel.from_pretrained(model_dir, use_safetensors=True).eval()

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    model = Encoder().eval()
    ids = torch.ones((2, 8), dtype=torch.int64)
    axes = {0: "batch", 1: "sequence"}
    with torch.no_grad():
        torch.onnx.export(
            model, (ids, torch.ones_like(ids), torch.zeros_like(ids)), path,
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"], opset_version=17, dynamo=False,
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                          "last_hidden_state": axes})
    # The graph must embed as sentence-transformers does before any figure of it is worth printing.
    from sentence_transformers import SentenceTransformer

    texts = short_texts(3) + long_texts(2)
    want = SentenceTransformer(model_dir, device="cpu").encode(texts, normalize_embeddings=True)
    got = OrtEmbedder(model_dir, path, 1).encode(texts, 2)
    worst = min(float((a * b).sum()) for a, b in zip(want, got))
    if worst < 0.9999:
        raise SystemExit(f"the exported ONNX graph disagrees with sentence-transformers (cosine {worst:.6f})")
    print(json.dumps({"onnx": path, "worst_cosine": worst}))


class OrtEmbedder:
    """ONNX Runtime with what sentence-transformers adds around the encoder, as fastembed-style libraries
    run it: the model's own tokenizer.json (truncation at max_seq_length, padding to the batch's longest),
    the session at `threads` intra-op threads with every graph optimisation, mean pooling over the
    attention mask, L2 normalisation."""

    def __init__(self, model_dir, onnx_path, threads):
        import numpy as np
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.np = np
        max_len = json.load(open(os.path.join(model_dir, "sentence_bert_config.json")))["max_seq_length"]
        self.tokenizer = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_len)
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id("[PAD]") or 0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
        self.version = ort.__version__

    def encode(self, texts, batch_size):
        np = self.np
        # Longest first, as sentence-transformers batches, so each batch pads little; order restored below.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = []
        for start in range(0, len(texts), batch_size):
            encodings = self.tokenizer.encode_batch([texts[i] for i in order[start:start + batch_size]])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            (hidden,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                                "token_type_ids": np.zeros_like(ids)})
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            out.append(pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None))
        rows = np.concatenate(out)
        restored = np.empty_like(rows)
        restored[order] = rows
        return restored


def latencies(call, count):
    """p50 and p99 in milliseconds of `count` calls of `call` (after one untimed call)."""
    call()
    times = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()  # the same nearest-rank rule as `cairn-runner bench --latency`
    return times[round((len(times) - 1) * 0.5)], times[round((len(times) - 1) * 0.99)]


def ort_worker(args):
    threads = args.threads or os.cpu_count()
    texts = json.load(open(args.input))
    embedder = OrtEmbedder(args.model, args.onnx, threads)
    embedder.encode(texts[: args.batch], args.batch)
    best = float("inf")
    for _ in range(args.rounds):
        start = time.perf_counter()
        embedder.encode(texts, args.batch)
        best = min(best, time.perf_counter() - start)
    report = {
        "engine": f"ONNX Runtime {embedder.version}",
        "threads": threads,
        "batch": args.batch,
        "texts": len(texts),
        "seconds": best,
        "sentences_per_s": len(texts) / best,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if args.latency:
        report["latency_p50_ms"], report["latency_p99_ms"] = latencies(
            lambda: embedder.encode(texts[:1], 1), args.latency)
    print(json.dumps(report))


def gemm_worker(args):
    """The best single-precision matrix product numpy's BLAS reaches here on `--threads` threads (set by the parent
    in the environment before numpy loads): the arithmetic ceiling the engines are compared with."""
    import numpy as np

    h, i, _ = model_dims(args.model)
    shapes = [(2048, 2048, 2048), (32 * 224, h, i), (32 * 224, i, h)]
    rng = np.random.default_rng(7)
    best = {}
    for m, k, n in shapes:
        a = rng.random((m, k), dtype=np.float32)
        b = rng.random((k, n), dtype=np.float32)
        a @ b
        seconds = min(timed(lambda: a @ b) for _ in range(7))
        best[f"{m}x{k}x{n}"] = 2 * m * k * n / seconds / 1e9
    blas = "numpy " + np.__version__
    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas += f" with {info.get('name', '?')} {info.get('version', '')}".rstrip()
    except Exception:  # older numpy: the BLAS name is not essential
        pass
    print(json.dumps({"blas": blas, "gflops": best, "ceiling_gflops": max(best.values())}))


def timed(call):
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def model_dims(model_dir):
    """(hidden size, feed-forward size, layers) from the model's config.json."""
    config = json.load(open(os.path.join(model_dir, "config.json")))
    return config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]


def flop_per_text(dims, report):
    """The encoder's matrix products for one text of the report's token counts, in FLOP (2 per multiply-add):
    per layer 2·n·(4h² + 2h·i) for Q, K, V, the output projection and the feed-forward, and 4·n²·h for QKᵀ and
    the weighted sum of V (`dims` from `model_dims`). Embeddings, LayerNorm, GELU, softmax and pooling are not
    counted."""
    h, i, layers = dims
    n, n2 = report["mean_tokens"], report.get("mean_square_tokens", report["mean_tokens"] ** 2)
    return layers * (2 * n * (4 * h * h + 2 * h * i) + 4 * n2 * h)


def run_json(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed: {out.stderr.strip()[-400:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--torch-worker", action="store_true")
    p.add_argument("--ort-worker", action="store_true")
    p.add_argument("--gemm-worker", action="store_true", help="print the BLAS matrix-product ceiling")
    p.add_argument("--ort-export", action="store_true", help="export --model to ONNX at --onnx and check it")
    p.add_argument("--onnx", help="the exported graph (workers)")
    p.add_argument("--latency", type=int, default=0, help="also time this many 1-sentence requests")
    p.add_argument("--ort-unavailable", default="", help="why ONNX Runtime could not be installed")
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
    if args.ort_worker:
        return ort_worker(args)
    if args.gemm_worker:
        return gemm_worker(args)
    if args.ort_export:
        return onnx_export(args.model, args.onnx)

    wanted = set(filter(None, args.configs.split(",")))
    rows = []
    latency = {}
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path, ort_why = os.path.join(tmp, "model.onnx"), args.ort_unavailable
        if not ort_why:
            print("embed bench: exporting the model to ONNX with torch", file=sys.stderr, flush=True)
            try:
                run_json([args.python, __file__, "--ort-export", "--model", args.model, "--onnx", onnx_path])
            except Exception as err:  # recorded in the section, not hidden
                ort_why = f"the ONNX export failed: {err}"
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
            timed = ["--latency", str(args.latency)] if args.latency and kind == "short" and batch == 1 else []
            ours = run_json(runner + timed)
            ort = None
            if not ort_why:
                try:
                    ort = run_json([args.python, __file__, "--ort-worker", "--model", args.model, "--onnx",
                                    onnx_path, "--input", path, "--batch", str(batch), "--rounds", str(rounds),
                                    "--threads", str(ours["threads"])] + timed)
                except Exception as err:
                    ort_why = f"ONNX Runtime failed: {err}"
            if timed:
                latency = {"ours": ours, "ort": ort}
            if batch == 32 and args.device == "cpu":
                # The plain candle-transformers port, for the record of what the fused engine gained.
                plain = run_json(runner + ["--engine", "candle"])
                ours["plain_candle_per_s"] = plain["sentences_per_s"]
            theirs, why = None, args.torch_unavailable
            if not why:
                try:
                    theirs = run_json([args.python, __file__, "--torch-worker", "--model", args.model,
                                       "--input", path, "--batch", str(batch), "--rounds", str(rounds),
                                       "--device", args.device, "--threads", str(ours["threads"])])
                except Exception as err:  # recorded in the table, not hidden
                    why = str(err)
            rows.append((kind, batch, ours, ort, theirs, why))

    ceiling, ceiling_why = None, ""
    if rows:
        threads = str(rows[0][2]["threads"])
        env = dict(os.environ, OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
        print(f"embed bench: the BLAS matrix-product ceiling on {threads} threads", file=sys.stderr, flush=True)
        out = subprocess.run([args.python, __file__, "--gemm-worker", "--model", args.model], capture_output=True,
                             text=True, env=env)
        if out.returncode == 0:
            ceiling = json.loads(out.stdout.strip().splitlines()[-1])
        else:
            ceiling_why = f"the BLAS ceiling was not measured: {out.stderr.strip()[-300:]}"

    def rate(report):
        return f"{report['sentences_per_s']:.1f}" if report else "n/a"

    def ratio(ours, ref):
        return f"**{ours['sentences_per_s'] / ref['sentences_per_s']:.2f}×**" if ref else "n/a"

    def rss(report):
        return f"{report['peak_rss_mib']:.0f} MiB" if report else "n/a"

    lines = [
        "| input | batch | cairn sentences/s | ONNX Runtime sentences/s | ratio to ORT | PyTorch sentences/s "
        "| ratio to PyTorch | cairn peak RSS | ORT peak RSS | PyTorch peak RSS |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, batch, ours, ort, theirs, why in rows:
        label = f"{kind} (~{ours['mean_tokens']:.0f} tokens)"
        lines.append(f"| {label} | {batch} | {rate(ours)} | {rate(ort)} | {ratio(ours, ort)} | {rate(theirs)} | "
                     f"{ratio(ours, theirs)} | {rss(ours)} | {rss(ort)} | {rss(theirs)} |")
    whys = sorted({why for *_, why in rows if why} | ({ort_why} if ort_why else set()))
    for why in whys:
        lines.append(f"\nNot measured: {why}")
    if latency:
        ours, ort = latency["ours"], latency["ort"]
        lines.append("")
        lines.append(f"Latency of one 1-sentence request ({args.latency} requests, model loaded, same threads): cairn "
                     "through its executor (the job's JSON parsed, tokenized, embedded, the canonical output "
                     "written and checked by the acceptance rule), ONNX Runtime from tokenization to the "
                     "normalised vector:")
        lines.append("")
        lines.append("| engine | p50 ms | p99 ms |")
        lines.append("|---|---|---|")
        lines.append(f"| cairn | {ours['latency_p50_ms']:.2f} | {ours['latency_p99_ms']:.2f} |")
        if ort:
            lines.append(f"| {ort['engine']} | {ort['latency_p50_ms']:.2f} | {ort['latency_p99_ms']:.2f} |")
    if ceiling:
        top = ceiling["ceiling_gflops"]
        dims = model_dims(args.model)

        def gflops(report, flop, times=1.0):
            """`times` the report's rate in GFLOP/s, with its share of the ceiling."""
            if not report:
                return "n/a"
            g = times * report["sentences_per_s"] * flop / 1e9
            return f"{g:.0f} ({g / top:.0%})"

        lines.append("")
        lines.append(f"Arithmetic rate: GFLOP/s of the encoder's matrix products (`flop_per_text` in "
                     f"`embed_bench.py`, from the model's config and cairn's token counts; the element-wise work "
                     f"is not counted) and its share of the ceiling, the best single-precision matrix product "
                     f"{ceiling['blas']} reaches in this run on the same threads ({top:.0f} GFLOP/s; "
                     + ", ".join(f"{s} {g:.0f}" for s, g in ceiling["gflops"].items())
                     + "). The last column is what 1.5× PyTorch's rate would take:")
        lines.append("")
        lines.append("| input | batch | GFLOP per text | cairn | ONNX Runtime | PyTorch | 1.5× PyTorch |")
        lines.append("|---|---|---|---|---|---|---|")
        for kind, batch, ours, ort, theirs, _ in rows:
            flop = flop_per_text(dims, ours)
            lines.append(f"| {kind} | {batch} | {flop / 1e9:.3f} | {gflops(ours, flop)} | {gflops(ort, flop)} | "
                         f"{gflops(theirs, flop)} | {gflops(theirs, flop, 1.5)} |")
    elif ceiling_why:
        lines.append(f"\nNot measured: {ceiling_why}")
    plain = [(kind, ours) for kind, batch, ours, *_ in rows if "plain_candle_per_s" in ours]
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
    engine = next((t["engine"] for *_, t, _ in rows if t), "PyTorch: unavailable")
    engine += "; " + next((o["engine"] for _, _, _, o, _, _ in rows if o), "ONNX Runtime: unavailable")
    text = "\n".join(lines) + "\n"
    header = (f"Device `{args.device}`, {rows[0][2]['threads'] if rows else '?'} threads each; references: {engine}. "
              "Best of the timed rounds after a warm-up; each configuration in a fresh process per engine.\n\n")
    out = header + text
    if args.out:
        open(args.out, "w").write(out)
    print(out)


if __name__ == "__main__":
    main()

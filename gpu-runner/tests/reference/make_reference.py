#!/usr/bin/env python3
"""Reference embeddings for `candle/bert-embed@1`, made with sentence-transformers on the same model folder.

    ~/.cache/cairn/py-ref/bin/python gpu-runner/tests/reference/make_reference.py .tools/models/all-MiniLM-L6-v2

Writes cases.json (the inputs of every case) and minilm.safetensors (one f32 tensor [n, 384] per case)
beside this script. The Rust tests embed the same inputs and require cosine >= 0.9999 on every row.
Versions used are recorded in cases.json.
"""
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import sentence_transformers
import torch
from safetensors.numpy import save_file
from sentence_transformers import SentenceTransformer


def long_text() -> str:
    words = ("provenance settlement verification operator escrow challenge committee royalty "
             "inference embedding tokenizer transformer").split()
    return " ".join(f"{words[i % len(words)]}{i}" for i in range(700))


def batch_300() -> list[str]:
    subjects = ["A man", "The woman", "A child", "The operator", "Every buyer", "A seller"]
    verbs = ["is eating", "publishes", "verifies", "challenges", "pays for", "reads"]
    objects = ["food.", "a piece of bread.", "the model weights on IPFS.", "a signed receipt.",
               "an escrowed inference job.", "the indexer's audit trail, slowly and with care."]
    out = []
    for i in range(300):
        s, v, o = subjects[i % 6], verbs[(i // 6) % 6], objects[(i // 36) % 6]
        out.append(f"{s} {v} {o}" + (f" (variant {i})" if i % 7 == 0 else ""))
    return out


CASES = {
    "ordinary": [
        "A man is eating food.",
        "A man is eating a piece of bread.",
        "The girl is carrying a baby.",
        "A man is riding a horse.",
        "Cairn settles signed inference results on an Ethereum L2.",
    ],
    "empty": [""],
    "whitespace": ["   \t\n  "],
    "scripts_and_emoji": [
        "Привет, мир! Как дела?",
        "こんにちは世界、今日はいい天気です。",
        "مرحبا بالعالم",
        "🚀🔥 launch day 🎉🎉",
        "中文句子测试：模型市场",
        "Ünïcödé façade naïve café",
    ],
    "long": [long_text(), "short one beside a long one"],
    "batch_1": ["single sentence batch"],
    "batch_300": batch_300(),
    "duplicates": ["same text", "other text", "same text", "same text"],
}


def main() -> None:
    model_dir = sys.argv[1]
    here = Path(__file__).resolve().parent
    model = SentenceTransformer(model_dir, device="cpu")
    assert model.max_seq_length == 256, model.max_seq_length
    tensors = {}
    for name, inputs in CASES.items():
        emb = model.encode(inputs, batch_size=32, convert_to_numpy=True)
        tensors[name] = np.ascontiguousarray(emb.astype(np.float32))
    save_file(tensors, str(here / "minilm.safetensors"))
    meta = {
        "about": "inputs for minilm.safetensors; made by make_reference.py",
        "sentence_transformers": sentence_transformers.__version__,
        "torch": torch.__version__,
        "max_seq_length": model.max_seq_length,
        "cases": CASES,
    }
    (here / "cases.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n")
    a, b = tensors["ordinary"][0], tensors["ordinary"][1]
    print(f"wrote {len(tensors)} cases; cos(ordinary[0], ordinary[1]) = {float(a @ b):.4f}")


if __name__ == "__main__":
    main()

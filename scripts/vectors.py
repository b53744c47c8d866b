#!/usr/bin/env python3
"""Regenerate (or check) EIP-712 test vectors with Foundry's `cast`, independently of Cairn's own code.

Usage: scripts/vectors.py [--check] FILE...        (make vectors / make vectors-check)

Each FILE is a vectors file (testdata/vectors/eip712.json): `types` (the struct definitions) and
`vectors`, each with `primaryType`, `domain` and `message`. Those are the inputs; every other field of a
vector is derived here and rewritten:

  structHash       keccak256(typeHash ‖ encodeData(message)), composed from `cast keccak` and `cast abi-encode`
  domainSeparator  the same over the EIP712Domain fields present in `domain`
  digest           `cast keccak` of 0x1901 ‖ domainSeparator ‖ structHash
  signer           `cast wallet address` of anvil's public test key 0
  signature        `cast wallet sign --data`: cast's own EIP-712 implementation hashes the typed data and signs

The composed digest is then proven to be cast's own: `cast wallet sign --no-hash <digest>` must give the very
signature `cast wallet sign --data` gave (RFC 6979 signing is deterministic, so equal signatures mean equal
digests), and `cast wallet verify --data` must accept it for the signer. Any disagreement stops the script.

Output is `json.dumps(indent=2, ensure_ascii=False)` plus a newline, keys in input order with the derived
fields after `message` in the order above. With --check nothing is written; the exit status is 1 when a file
would change. Needs python3 (standard library only) and cast (`$CAST`, else `cast` on PATH, else the
checkout's .tools/bin/cast from `make setup`).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# anvil's public test account 0 (every vector's signer; never a real key).
ANVIL_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"

# EIP-712's domain fields, in the order the standard lists them.
DOMAIN_FIELDS = [("name", "string"), ("version", "string"), ("chainId", "uint256"),
                 ("verifyingContract", "address"), ("salt", "bytes32")]

DERIVED = ["structHash", "domainSeparator", "digest", "signer", "signature"]

ATOMIC = re.compile(r"^(address|bool|bytes([1-9]|[12][0-9]|3[0-2])|u?int(8|16|24|32|40|48|56|64|72|80|88|96|"
                    r"104|112|120|128|136|144|152|160|168|176|184|192|200|208|216|224|232|240|248|256)?)$")


class VectorError(Exception):
    """A vectors file cannot be regenerated; the message says what to fix."""


def find_cast():
    cast = os.environ.get("CAST") or shutil.which("cast")
    if cast:
        return cast
    local = Path(__file__).resolve().parent.parent / ".tools/bin/cast"
    if local.exists():
        return str(local)
    raise VectorError("no `cast`: set CAST, put Foundry's cast on PATH, or run `make setup` (installs .tools/bin/cast)")


CAST = None


def cast(*args):
    """Runs cast and returns its trimmed stdout; a failure names the command and cast's message."""
    proc = subprocess.run([CAST, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise VectorError(f"`cast {' '.join(args)}` failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout.strip()


def keccak_bytes(data: bytes) -> str:
    # Always hex: `cast keccak` hashes a 0x-prefixed argument as bytes and anything else as UTF-8 text, so a
    # string value starting with "0x" would otherwise be hashed as hex.
    return cast("keccak", "0x" + data.hex())


def base_type(t):
    return t.split("[", 1)[0]


def encode_type(types, primary):
    """EIP-712 encodeType: the primary type, then every struct it references, sorted by name."""
    deps, todo = set(), [primary]
    while todo:
        name = todo.pop()
        if name in deps:
            continue
        deps.add(name)
        for field in types[name]:
            if base_type(field["type"]) in types:
                todo.append(base_type(field["type"]))
    ordered = [primary] + sorted(deps - {primary})
    return "".join(f"{n}({','.join(f['type'] + ' ' + f['name'] for f in types[n])})" for n in ordered)


def hash_struct(types, primary, value, where):
    """keccak256(typeHash ‖ encodeData(value)); string/bytes/struct fields are hashed first, as EIP-712 says."""
    if primary not in types:
        raise VectorError(f"{where}: type `{primary}` is not defined in `types`")
    fields = types[primary]
    names = [f["name"] for f in fields]
    extra = sorted(set(value) - set(names))
    missing = [n for n in names if n not in value]
    if extra or missing:
        raise VectorError(f"{where}: the {primary} message must have exactly the fields of `types.{primary}` "
                          f"{names}; missing {missing}, not in the type {extra}")
    abi_types, args = ["bytes32"], [keccak_bytes(encode_type(types, primary).encode())]
    for field in fields:
        t, v, at = field["type"], value[field["name"]], f"{where}.{field['name']}"
        if t == "string":
            abi_types.append("bytes32")
            args.append(keccak_bytes(v.encode("utf-8")))
        elif t == "bytes":
            abi_types.append("bytes32")
            args.append(keccak_bytes(bytes.fromhex(v.removeprefix("0x"))))
        elif t in types:
            abi_types.append("bytes32")
            args.append(hash_struct(types, t, v, at))
        elif ATOMIC.match(t):
            abi_types.append(t)
            args.append(str(v).lower() if isinstance(v, bool) else str(v))
        else:
            raise VectorError(f"{at}: type `{t}` is not supported by scripts/vectors.py (arrays are not); "
                              "extend hash_struct if the typed data needs it")
    # `--` so a negative intN value is not read as an option.
    return keccak_bytes(bytes.fromhex(cast("abi-encode", f"f({','.join(abi_types)})", "--", *args)[2:]))


def domain_type(domain, where):
    unknown = sorted(set(domain) - {n for n, _ in DOMAIN_FIELDS})
    if unknown:
        raise VectorError(f"{where}.domain: unknown EIP712Domain fields {unknown}; allowed: name, version, "
                          "chainId, verifyingContract, salt")
    return [{"name": n, "type": t} for n, t in DOMAIN_FIELDS if n in domain]


def derive(types, vector, where, signer):
    primary = vector["primaryType"]
    domain_fields = domain_type(vector["domain"], where)
    if "EIP712Domain" in types and types["EIP712Domain"] != domain_fields:
        raise VectorError(f"{where}: `types.EIP712Domain` differs from the fields present in `domain`")
    all_types = {"EIP712Domain": domain_fields, **{k: v for k, v in types.items() if k != "EIP712Domain"}}
    struct_hash = hash_struct(all_types, primary, vector["message"], f"{where}.message")
    separator = hash_struct(all_types, "EIP712Domain", vector["domain"], f"{where}.domain")
    digest = cast("keccak", "0x1901" + separator[2:] + struct_hash[2:])

    typed = {"types": all_types, "primaryType": primary, "domain": vector["domain"], "message": vector["message"]}
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8", delete=False) as f:
        json.dump(typed, f, ensure_ascii=False)
        typed_file = f.name
    try:
        signature = cast("wallet", "sign", "--data", "--from-file", typed_file, "--private-key", ANVIL_KEY_0)
        over_digest = cast("wallet", "sign", "--no-hash", digest, "--private-key", ANVIL_KEY_0)
        if signature != over_digest:
            raise VectorError(f"{where}: cast's EIP-712 digest of the typed data is not the digest composed "
                              f"here ({digest}): `cast wallet sign --data` gave {signature}, signing the "
                              f"composed digest gave {over_digest}. The hashing in scripts/vectors.py "
                              "(encode_type/hash_struct) disagrees with cast; fix it before trusting any vector")
        cast("wallet", "verify", "--data", "--from-file", typed_file, signature, "--address", signer)
    finally:
        os.unlink(typed_file)
    return {"structHash": struct_hash, "domainSeparator": separator, "digest": digest, "signer": signer,
            "signature": signature}


def regenerate(path: Path, signer: str) -> str:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise VectorError(f"{path}: {e}") from e
    if not isinstance(data.get("types"), dict) or not isinstance(data.get("vectors"), list):
        raise VectorError(f"{path}: expected an object with `types` (struct definitions) and `vectors` (a list)")
    for i, vector in enumerate(data["vectors"]):
        where = f"{path}: vectors[{i}]"
        for key in ("primaryType", "domain", "message"):
            if key not in vector:
                raise VectorError(f"{where}: no `{key}` (each vector needs primaryType, domain and message)")
        derived = derive(data["types"], vector, where, signer)
        kept = {k: v for k, v in vector.items() if k not in DERIVED}
        data["vectors"][i] = {**kept, **derived}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def main(argv):
    check = "--check" in argv
    files = [a for a in argv if a != "--check"]
    if not files or any(a.startswith("-") for a in files):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    global CAST
    try:
        CAST = find_cast()
        signer = cast("wallet", "address", "--private-key", ANVIL_KEY_0)
        stale = []
        for name in files:
            path = Path(name)
            text = regenerate(path, signer)
            if text == path.read_text(encoding="utf-8"):
                print(f"==> {path}: up to date", file=sys.stderr)
            elif check:
                stale.append(str(path))
            else:
                tmp = path.with_name(f".{path.name}.tmp")
                tmp.write_text(text, encoding="utf-8")
                tmp.replace(path)
                print(f"==> {path}: rewritten", file=sys.stderr)
    except VectorError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    if stale:
        print("Error: these vectors files differ from what cast derives from their types and messages:\n  "
              + "\n  ".join(stale) + "\nrun `make vectors`, review the diff and commit it", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

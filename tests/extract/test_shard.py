"""Shards: detection from torchrun/SLURM variables, ranges, and merged shards == one run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

import neuroheat as nh
from neuroheat.cli import main
from neuroheat.errors import InputError
from neuroheat.extract.shard import (
    Shard,
    balanced_cuts,
    block_edges,
    default_shard,
    detect_shard,
    parse_shard,
    plan_block,
    plan_in_blocks,
    resolve_shard,
)

REPO = Path(__file__).resolve().parents[2]
BLOCK = 16  # plan block for the small test corpus (the default is >= 1024 sentences)


@pytest.mark.parametrize("env, expected", [
    ({}, (0, 1)),
    ({"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1"}, (1, 2)),
    ({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"}, (3, 4)),
    ({"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "4", "SLURM_ARRAY_TASK_MAX": "7"},
     (1, 4)),
    ({"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "6",
      "SLURM_ARRAY_TASK_STEP": "2"}, (2, 4)),
    ({"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "3", "RANK": "1",
      "WORLD_SIZE": "2"}, (3, 6)),  # array task 1 of 3, torchrun rank 1 of 2 in each
    ({"SLURM_PROCID": "2", "SLURM_STEP_NUM_TASKS": "4"}, (2, 4)),
    ({"SLURM_PROCID": "0", "SLURM_NTASKS": "4"}, (0, 1)),  # a batch script is one process
    ({"SLURM_PROCID": "2", "SLURM_STEP_NUM_TASKS": "4", "RANK": "0", "WORLD_SIZE": "1"},
     (0, 1)),
])
def test_detect_shard(env, expected):
    assert detect_shard(env) == expected
    assert parse_shard("auto", env) == expected


@pytest.mark.parametrize("env, match", [
    ({"SLURM_ARRAY_TASK_ID": "2"}, "SLURM_ARRAY_TASK_COUNT"),
    ({"SLURM_ARRAY_TASK_ID": "9", "SLURM_ARRAY_TASK_COUNT": "4"}, "--array=0-3"),
    ({"RANK": "x", "WORLD_SIZE": "2"}, "RANK"),
    ({"RANK": "2", "WORLD_SIZE": "2"}, "out of range"),
])
def test_detect_shard_errors(env, match):
    with pytest.raises(InputError, match=match):
        detect_shard(env)


@pytest.mark.parametrize("spec", ["3/3", "a/b", "1", (2, 1), "-1/2"])
def test_bad_explicit_shard(spec):
    with pytest.raises(InputError, match="shard"):
        parse_shard(spec)


def test_output_path_placeholders_and_suffix():
    s = Shard(1, 4, 10, 20)
    assert s.output_path(Path("out/acts.h5")) == Path("out/acts-shard1of4.h5")
    assert s.output_path("out/acts-{shard}-of-{num_shards}.h5") == Path("out/acts-1-of-4.h5")
    assert s.output_path("run{shard}/acts.h5") == Path("run1/acts.h5")
    one = Shard(0, 1, 0, 20)
    assert one.output_path(Path("acts.h5")) == Path("acts.h5")
    assert one.output_path("acts-{shard}.h5") == Path("acts-0.h5")


@pytest.mark.parametrize("n, count", [(10, 4), (1000, 3), (100, 7), (8, 8), (1000, 1000),
                                      (5, 1)])
def test_shards_cover_the_corpus_once_every_shard_has_work(n, count):
    rng = np.random.default_rng(n + count)
    sizes = rng.integers(1, 120, size=n)
    sizes[n // 3] = 50_000  # one very long line
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    ranges = [resolve_shard((i, count), bounds) for i in range(count)]
    assert ranges[0].start == 0 and ranges[-1].stop == n
    for a, b in zip(ranges, ranges[1:], strict=False):
        assert a.stop == b.start
    assert all(r.stop > r.start for r in ranges)  # for every N up to the number of sentences
    assert all(r.parts == (r.start, r.stop) for r in ranges)


def test_shards_are_balanced_by_weight():
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 200, size=100_000)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    cuts = balanced_cuts(bounds, 1000)
    weights = np.diff(bounds[cuts])
    assert weights.max() <= 1.02 * weights.mean() and weights.min() >= 0.98 * weights.mean()
    # more plan parts than shards: a shard is whole parts
    spec = resolve_shard((1, 4), bounds, parts=8)
    assert spec.parts == tuple(int(c) for c in balanced_cuts(bounds, 8)[2:5])
    with pytest.raises(InputError, match="plan_shards"):
        resolve_shard((1, 4), bounds, parts=2)


def test_more_shards_than_sentences_leaves_some_empty():
    cuts = balanced_cuts(np.arange(4), 5)
    assert cuts[0] == 0 and cuts[-1] == 3 and (np.diff(cuts) >= 0).all()


def test_block_edges_restart_in_every_part():
    assert block_edges([0, 10, 13], 4) == [0, 4, 8, 10, 13]
    assert block_edges([5, 5, 7], 4) == [5, 7]


@pytest.mark.parametrize("env, expected", [
    ({}, None),
    ({"RANK": "0", "WORLD_SIZE": "1"}, None),
    ({"RANK": "1", "WORLD_SIZE": "2"}, "auto"),
    ({"SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "3"}, "auto"),
    ({"SLURM_PROCID": "1", "SLURM_STEP_NUM_TASKS": "2", "SLURM_NTASKS": "2"}, "auto"),
    ({"SLURM_PROCID": "0", "SLURM_NTASKS": "4"}, None),  # a batch script: one process
])
def test_default_shard_under_launchers(env, expected):
    assert default_shard(env) == expected


@pytest.mark.parametrize("env", [{"WORLD_SIZE": "2"}, {"SLURM_ARRAY_TASK_COUNT": "4"}])
def test_launcher_count_without_a_rank_is_refused(env):
    with pytest.raises(InputError, match="--shard I/N"):
        default_shard(env)


def test_plan_block_depends_on_corpus_size_only(monkeypatch):
    assert plan_block(10) == plan_block(1024) == 1024
    assert plan_block(10**7) == 4096
    assert plan_block(10, override=8) == 8
    monkeypatch.setenv("NEUROHEAT_PLAN_BLOCK", "32")
    assert plan_block(10) == 32
    with pytest.raises(InputError):
        plan_block(10, override=0)


def test_block_plans_of_a_shard_are_the_single_run_plans(tiny_bert):
    from neuroheat.extract import align
    from neuroheat.model.loading import load_model

    loaded = load_model(tiny_bert, device="cpu")
    words = [s.split() for s in _sentences(70)]
    enc = align.encode_corpus(loaded.tokenizer, words, "last")
    kw = dict(n_special=2, capacity=62, batch_tokens=64, causal=False)
    bounds = np.concatenate([[0], np.cumsum([len(" ".join(w)) + 1 for w in words])])
    cuts = balanced_cuts(bounds, 2)
    full = plan_in_blocks(enc, start=0, block=BLOCK, parts=cuts.tolist(), **kw)
    edges = block_edges(cuts.tolist(), BLOCK)
    for unit in full:  # a unit never crosses a block
        assert len({int(np.searchsorted(edges, s, side="right")) for s in unit.sentences}) == 1
    spec = resolve_shard((1, 2), bounds)
    part = plan_in_blocks(enc[spec.start:spec.stop], start=spec.start, block=BLOCK,
                          parts=spec.parts, **kw)
    mine = [u for u in full if spec.start <= u.sentences[0] < spec.stop]
    assert [[s + spec.start for s in u.sentences] for u in part] == [u.sentences for u in mine]
    assert [u.micro for u in part] == [u.micro for u in mine]


# -- end to end -------------------------------------------------------------------------------
def _sentences(n: int) -> list[str]:
    rng = np.random.default_rng(3)
    vocab = ("the quick brown fox jumps over lazy dog Vinken interpretability unbelievable "
             "neuron cats 1234 & < > .").split()
    return [" ".join(rng.choice(vocab, size=rng.integers(0, 30))) for _ in range(n)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text("\n".join(_sentences(70)) + "\n", encoding="utf-8")
    return path


def _dump(path: Path) -> dict[str, object]:
    with h5py.File(path, "r") as f:
        out: dict[str, object] = {f"act/{k}": f["activations"][k][...].tobytes()
                                  for k in f["activations"]}
        out["words"] = f["words"].asstr()[...].tolist()
        out["offsets"] = f["sentence_offsets"][...].tolist()
        out["word_ids"] = f["word_ids"][...].tolist()
        out["vocab"] = f["vocab"].asstr()[...].tolist()
        out["untokenized"] = f["untokenized"][...].tolist()
        stats = {k: f["stats"][k][...] for k in f["stats"]}
    return out, stats


def _assert_same_as_single(merged: Path, single: Path) -> None:
    got, got_stats = _dump(merged)
    ref, ref_stats = _dump(single)
    assert got.keys() == ref.keys()
    for key in ref:
        assert got[key] == ref[key], key  # activation bytes identical, words, offsets, vocab
    for key in ref_stats:
        np.testing.assert_allclose(got_stats[key], ref_stats[key], rtol=1e-9, atol=0)


@pytest.fixture(scope="module")
def single_run(tiny_models, corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("single") / "single.h5"
    return nh.extract_activations(tiny_models["gpt2"], corpus, out, dtype="float32",
                                  batch_tokens=96, plan_block=BLOCK, plan_shards=2, quiet=True)


def test_explicit_shards_merged_equal_a_single_run(tiny_models, corpus, single_run, tmp_path,
                                                   monkeypatch):
    monkeypatch.setenv("NEUROHEAT_PLAN_BLOCK", str(BLOCK))
    for i in range(2):
        assert main(["extract", str(tiny_models["gpt2"]), str(corpus), str(tmp_path / "a.h5"),
                     "--dtype", "float32", "--batch-tokens", "96", "--shard", f"{i}/2",
                     "--device", "cpu", "--quiet"]) == 0
    shards = sorted(tmp_path.glob("a-shard*of2.h5"))
    assert [p.name for p in shards] == ["a-shard0of2.h5", "a-shard1of2.h5"]
    with nh.open_store(shards[1]) as s1:
        assert s1.meta["sentence_start"] > 0 and s1.meta["sentence_stop"] == 70
        assert s1.meta["num_sentences_total"] == 70 and s1.meta["plan_block"] == BLOCK
        assert s1.meta["plan_shards"] == 2
    assert main(["merge", str(tmp_path / "merged.h5"), *map(str, shards[::-1])]) == 0
    _assert_same_as_single(tmp_path / "merged.h5", single_run)
    # the glob reads like the single store
    with nh.open_store(str(tmp_path / "a-shard*of2.h5")) as sh, nh.open_store(single_run) as one:
        assert sh.num_sentences == one.num_sentences and sh.num_words == one.num_words
        np.testing.assert_array_equal(sh.offsets, one.offsets)
        assert sh.vocab == one.vocab and sh.all_words() == one.all_words()
        np.testing.assert_array_equal(sh.word_ids, one.word_ids)
        for layer in one.layers:
            np.testing.assert_array_equal(sh.rows(layer, 0, sh.num_words),
                                          one.rows(layer, 0, one.num_words))
        for i in (0, 33, 35, 69):
            assert sh.words(i) == one.words(i)
            np.testing.assert_array_equal(sh.sentence(i), one.sentence(i))


def test_torchrun_style_processes_merged_equal_a_single_run(tiny_models, corpus, single_run,
                                                            tmp_path):
    """Two processes started as torchrun starts them (RANK, WORLD_SIZE, LOCAL_RANK...)."""
    out = tmp_path / "acts-{shard}of{num_shards}.h5"
    procs = []
    for rank in range(2):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank),
                   LOCAL_WORLD_SIZE="2", GROUP_RANK="0", MASTER_ADDR="127.0.0.1",
                   MASTER_PORT="29511", TORCHELASTIC_RUN_ID="test", OMP_NUM_THREADS="1",
                   NEUROHEAT_PLAN_BLOCK=str(BLOCK), HF_HUB_OFFLINE="1")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "neuroheat", "extract", str(tiny_models["gpt2"]),
             str(corpus), str(out), "--dtype", "float32", "--batch-tokens", "96",
             "--shard", "auto", "--device", "auto", "--quiet"],
            env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for p in procs:
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, stderr
    assert sorted(p.name for p in tmp_path.glob("acts-*of2.h5")) == ["acts-0of2.h5",
                                                                    "acts-1of2.h5"]
    nh_merged = tmp_path / "merged.h5"
    from neuroheat.store.merge import merge_stores

    merge_stores(nh_merged, str(tmp_path / "acts-*of2.h5"))
    _assert_same_as_single(nh_merged, single_run)
    merge_stores(tmp_path / "virtual.h5", str(tmp_path / "acts-*of2.h5"), virtual=True)
    with nh.open_store(tmp_path / "virtual.h5") as v, nh.open_store(nh_merged) as m:
        for layer in m.layers:
            np.testing.assert_array_equal(v.rows(layer, 0, v.num_words),
                                          m.rows(layer, 0, m.num_words))


def test_slurm_array_script_tasks_merge(tiny_models, corpus, single_run, tmp_path):
    """scripts/slurm_extract.sh run as two array tasks would run it, then its merge step."""
    script = REPO / "scripts" / "slurm_extract.sh"
    base = dict(os.environ, NEUROHEAT_PLAN_BLOCK=str(BLOCK), HF_HUB_OFFLINE="1",
                OMP_NUM_THREADS="1", NEUROHEAT=f"{sys.executable} -m neuroheat",
                MODEL=str(tiny_models["gpt2"]), CORPUS=str(corpus), OUTDIR=str(tmp_path / "out"),
                EXTRACT_ARGS="--dtype float32 --batch-tokens 96 --device cpu")
    for task in range(2):
        env = dict(base, SLURM_JOB_ID="42", SLURM_ARRAY_JOB_ID="42",
                   SLURM_ARRAY_TASK_ID=str(task), SLURM_ARRAY_TASK_COUNT="2",
                   SLURM_ARRAY_TASK_MIN="0", SLURM_ARRAY_TASK_MAX="1")
        res = subprocess.run(["bash", str(script), "task"], env=env, cwd=REPO,
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
    res = subprocess.run(["bash", str(script), "merge"], env=base, cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    _assert_same_as_single(tmp_path / "out" / "acts.h5", single_run)


def test_small_corpus_every_shard_has_work_and_merges(tiny_bert, tmp_path):
    corpus = _sentences(20)
    single = nh.extract_activations(tiny_bert, corpus, tmp_path / "one.h5", plan_shards=4,
                                    quiet=True)
    for i in range(4):
        nh.extract_activations(tiny_bert, corpus, tmp_path / "s.h5", shard=(i, 4), quiet=True)
        with nh.open_store(tmp_path / f"s-shard{i}of4.h5") as part:
            assert part.num_sentences > 0 and part.meta["plan_shards"] == 4
    from neuroheat.store.merge import merge_stores

    merged = merge_stores(tmp_path / "m.h5", str(tmp_path / "s-shard*of4.h5"))
    _assert_same_as_single(merged, single)


def test_merge_refuses_shards_of_other_plan_settings(tiny_bert, tmp_path):
    from neuroheat.errors import StoreError
    from neuroheat.store.merge import merge_stores

    corpus = _sentences(20)
    a = nh.extract_activations(tiny_bert, corpus, tmp_path / "s.h5", shard=(0, 2), quiet=True)
    b = nh.extract_activations(tiny_bert, corpus, tmp_path / "s.h5", shard=(1, 2), quiet=True,
                               plan_block=4)
    with pytest.raises(StoreError, match="plan_block"):
        merge_stores(tmp_path / "m.h5", [a, b])


def test_torchrun_without_shard_never_writes_one_file_twice(tiny_models, corpus, single_run,
                                                            tmp_path):
    """RANK/WORLD_SIZE set and no --shard: each rank extracts its own shard (and says so)."""
    out = tmp_path / "acts.h5"
    procs = []
    for rank in range(2):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank),
                   OMP_NUM_THREADS="1", NEUROHEAT_PLAN_BLOCK=str(BLOCK), HF_HUB_OFFLINE="1")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "neuroheat", "extract", str(tiny_models["gpt2"]),
             str(corpus), str(out), "--dtype", "float32", "--batch-tokens", "96",
             "--device", "cpu"],
            env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for rank, p in enumerate(procs):
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, stderr
        assert f"shard {rank}/2" in stderr and "WORLD_SIZE=2" in stderr
    assert not out.exists()
    from neuroheat.store.merge import merge_stores

    merged = merge_stores(tmp_path / "m.h5", str(tmp_path / "acts-shard*of2.h5"))
    _assert_same_as_single(merged, single_run)

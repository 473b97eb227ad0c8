"""Builders of tiny, real, seeded models and tokenizers for tests (no network).

Each ``tiny_*`` function trains a small tokenizer on :data:`TRAIN_TEXT` with the
``tokenizers`` library, builds a model from a small config with random seeded weights, saves
both to a fresh directory and returns its path, so tests load them exactly like a downloaded
model (``load_model(path)``). Results are cached per process and directory.

Example:
    >>> path = tiny_bert(tmp_path)          # doctest: +SKIP
    >>> nh.extract_activations(path, ["a b"], tmp_path / "s.h5")   # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

TRAIN_TEXT = [
    "The quick brown fox jumps over the lazy dog .",
    "A neuron in a transformer responds to some words more than others .",
    "Researchers extract activations and rank the top words of every neuron .",
    "Vinken will join the board as a nonexecutive director on Nov. 29 .",
    "Pierre Vinken , 61 years old , is chairman of Elsevier N.V. , the Dutch publishing group .",
    "interpretability tokenization unbelievable preprocessing antidisestablishmentarianism",
    "Numbers like 1234 and 56.78 appear in text , as do symbols like & < > and quotes \" ' .",
    "cats dogs birds fish run jumped walking talked reads wrote",
]

_SPECIAL_BERT = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _seed(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


def _save(model, tokenizer, path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def _word_counts(lower: bool) -> Counter:
    counts: Counter = Counter()
    for line in TRAIN_TEXT:
        counts.update(re.findall(r"\w+|[^\w\s]", line.lower() if lower else line))
    return counts


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def bert_tokenizer():
    """A lower-casing WordPiece BERT tokenizer with a vocabulary built from TRAIN_TEXT.

    The vocabulary is constructed deterministically (the ``tokenizers`` trainers iterate hash
    maps with random seeds, so trained vocabularies differ between processes): characters,
    ``##`` characters, a few suffixes, and the words seen twice or of at most three letters.
    Rare long words such as "unbelievable" split into several pieces.
    """
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertTokenizerFast

    counts = _word_counts(lower=True)
    chars = sorted({ch for w in counts for ch in w})
    words = sorted(w for w, n in counts.items() if n >= 2 or len(w) <= 3)
    suffixes = ["##s", "##ed", "##ing", "##er", "##ion", "##able", "##ly"]
    vocab = _unique(_SPECIAL_BERT + chars + ["##" + c for c in chars] + suffixes + words)
    tok = BertWordPieceTokenizer({t: i for i, t in enumerate(vocab)}, lowercase=True)
    return BertTokenizerFast(tokenizer_object=tok._tokenizer, model_max_length=64)


def bpe_tokenizer(kind: str = "gpt2", vocab_size: int = 300):
    """A byte-level BPE tokenizer ("gpt2" or "roberta" special tokens) trained on TRAIN_TEXT."""
    from tokenizers import ByteLevelBPETokenizer, processors
    from transformers import GPT2TokenizerFast, RobertaTokenizerFast

    tok = ByteLevelBPETokenizer(add_prefix_space=False)
    specials = ["<|endoftext|>"] if kind == "gpt2" else ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok.train_from_iterator(TRAIN_TEXT, vocab_size=vocab_size, special_tokens=specials)
    if kind == "gpt2":
        return GPT2TokenizerFast(tokenizer_object=tok._tokenizer, model_max_length=64)
    tok._tokenizer.post_processor = processors.RobertaProcessing(
        ("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>"))
    )
    return RobertaTokenizerFast(
        tokenizer_object=tok._tokenizer,
        bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
        unk_token="<unk>", pad_token="<pad>", mask_token="<mask>", model_max_length=64,
    )


def unigram_tokenizer():
    """A SentencePiece-style unigram tokenizer with T5's special tokens, built deterministically.

    Pieces: "\u2581word" for words seen twice or of at most four letters, "\u2581" and every
    character, scored by log frequency (ties broken by the piece string).
    """
    import math

    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import T5TokenizerFast

    counts = _word_counts(lower=False)
    total = sum(counts.values())
    scores: dict[str, float] = {"\u2581": math.log(0.05)}
    for w, n in counts.items():
        if n >= 2 or len(w) <= 4:
            scores["\u2581" + w] = math.log(n / total)
        for ch in w:
            scores[ch] = math.log(0.5 / total)
    specials = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab = specials + sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    tok = Tokenizer(models.Unigram(vocab, unk_id=2))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", 1)]
    )
    return T5TokenizerFast(
        tokenizer_object=tok, eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
        extra_ids=0, model_max_length=64,
    )


def tiny_bert(path: Path, head: str | None = None, seed: int = 0, max_positions: int = 64,
              num_labels: int = 3) -> Path:
    """Tiny BERT (2 layers, hidden 32); head None | "mlm" | "classifier"."""
    from transformers import BertConfig, BertForMaskedLM, BertForSequenceClassification, BertModel

    tok = bert_tokenizer()
    cfg = BertConfig(
        vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=64, max_position_embeddings=max_positions, num_labels=num_labels,
        pad_token_id=tok.pad_token_id,
    )
    _seed(seed)
    cls = {None: BertModel, "mlm": BertForMaskedLM, "classifier": BertForSequenceClassification}[head]
    return _save(cls(cfg).eval(), tok, Path(path))


def tiny_roberta(path: Path, seed: int = 0, max_positions: int = 66) -> Path:
    """Tiny RoBERTa (2 layers, hidden 32) with a byte-level BPE tokenizer."""
    from transformers import RobertaConfig, RobertaModel

    tok = bpe_tokenizer("roberta")
    cfg = RobertaConfig(
        vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=64, max_position_embeddings=max_positions, pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
    )
    _seed(seed)
    return _save(RobertaModel(cfg).eval(), tok, Path(path))


def tiny_gpt2(path: Path, head: str | None = None, seed: int = 0, n_positions: int = 64) -> Path:
    """Tiny GPT-2 (2 layers, hidden 32); head None | "causal"."""
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2Model

    tok = bpe_tokenizer("gpt2")
    eos = tok.convert_tokens_to_ids("<|endoftext|>")
    cfg = GPT2Config(
        vocab_size=len(tok), n_embd=32, n_layer=2, n_head=4, n_positions=n_positions,
        bos_token_id=eos, eos_token_id=eos,
    )
    _seed(seed)
    cls = GPT2LMHeadModel if head == "causal" else GPT2Model
    return _save(cls(cfg).eval(), tok, Path(path))


def tiny_t5(path: Path, seed: int = 0) -> Path:
    """Tiny T5 encoder-decoder (2 layers, d_model 32) with a unigram tokenizer."""
    from transformers import T5Config, T5Model

    tok = unigram_tokenizer()
    cfg = T5Config(
        vocab_size=len(tok), d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
        decoder_start_token_id=tok.pad_token_id, pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
    )
    _seed(seed)
    return _save(T5Model(cfg).eval(), tok, Path(path))

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


def bert_tokenizer(vocab_size: int = 200):
    """A WordPiece BERT tokenizer (lower-casing) trained on TRAIN_TEXT."""
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertTokenizerFast

    tok = BertWordPieceTokenizer(lowercase=True)
    tok.train_from_iterator(TRAIN_TEXT, vocab_size=vocab_size, special_tokens=_SPECIAL_BERT)
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


def unigram_tokenizer(vocab_size: int = 150):
    """A SentencePiece-style unigram tokenizer with T5's special tokens."""
    from tokenizers import SentencePieceUnigramTokenizer
    from transformers import T5TokenizerFast

    tok = SentencePieceUnigramTokenizer()
    tok.train_from_iterator(
        TRAIN_TEXT, vocab_size=vocab_size, special_tokens=["<pad>", "</s>", "<unk>"],
        unk_token="<unk>",
    )
    from tokenizers import processors

    tok._tokenizer.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", tok.token_to_id("</s>"))]
    )
    return T5TokenizerFast(
        tokenizer_object=tok._tokenizer, eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
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

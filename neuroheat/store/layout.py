"""The on-disk layout of a neuroheat activation store (format v1). Only ``neuroheat.store`` uses it.

One HDF5 file holds a whole corpus (or one shard of it)::

    /activations/<L>      [n_rows, width]  float16|float32, one dataset per MODEL layer L
    /sentence_offsets     [n_sentences + 1] int64; rows of sentence i: offsets[i]:offsets[i+1]
    /words                [n_rows] utf-8 strings (original words; subword strings for "none")
    /word_ids             [n_rows] int32 index into /vocab (word types, first-seen order)
    /vocab                [n_types] utf-8 strings
    /untokenized          [k] int64 rows of words that tokenized to nothing (see extract docs)
    /stats/{count,mean,M2,min,max}  [n_layers, width] float64, computed from the stored values
    /token_ids            [n_rows] int32 each row's token id (token units only)
    /sources              [n_sentences, 4] int64 each context's corpus row, start character,
                          row of its last token, end character (token units only)
    attributes: format, format_version, neuroheat_version, model, revision, tokenizer, layers,
                aggregation, dtype, component, width, corpus_sha256, complete, shard info,
                units ("words" when absent), context_tokens, corpus_format, text_field,
                corpus_files, corpus_file_sha256, ...

Why one *contiguous* dataset per layer:
reading one layer for analysis is one sequential read that never touches other layers' bytes;
the size of every dataset is known before the first forward pass (the corpus is tokenized
first), so each is allocated at creation and extraction writes raw rows at fixed file offsets
(``np.memmap``) without touching HDF5 metadata. A run killed at any moment therefore cannot
corrupt the file's structure, and ``--resume`` rewrites the same bytes at the same places.
A chunked layout would add a chunk index that every write updates (and a crash can tear).

SAE latents use the sparse layout instead (format v2, CSR rows): see
:mod:`neuroheat.store.sparse_layout`.

Example:
    >>> f"{ACTIVATIONS}/{layer_name(6)}"
    'activations/6'
"""

from __future__ import annotations

FORMAT_NAME = "neuroheat-activations"
FORMAT_VERSION = 1
ACTIVATIONS = "activations"
OFFSETS = "sentence_offsets"
WORDS = "words"
WORD_IDS = "word_ids"
VOCAB = "vocab"
UNTOKENIZED = "untokenized"
STATS = "stats"
TOKEN_IDS = "token_ids"
SOURCES = "sources"
STAT_NAMES = ("count", "mean", "M2", "min", "max")
DTYPES = ("float16", "float32")
PROGRESS_SUFFIX = ".progress.npz"


def layer_name(layer: int) -> str:
    """Dataset name of a model layer inside /activations."""
    return str(int(layer))

"""Probing: which neurons encode a property (labels, streamed data, linear probes, rankings,
ablation, control tasks).

Light to import: names load on first use and nothing here imports torch.

Example:
    >>> from neuroheat import probing
    >>> union, per_class = probing.top_neurons([[5, 1, 1], [1, 10, 1]], 0.5)
    >>> union.tolist()
    [0, 1]
    >>> with open_store("acts.h5") as store:                         # doctest: +SKIP
    ...     labels = probing.read_labels("train.conllu", column="upos", store=store)
    ...     probing.probeless(store, labels, layers="3").pairs(10)
    ...     split = probing.Split(test_fraction=0.2)
    ...     probe = probing.Probe(seed=0).fit(store, labels, layers="3", split=split)
    ...     probe.selected                  # the l2 chosen on a development split
    ...     probing.ablation(store, labels, probing.neuron_ordering(probe), layers="3",
    ...                      split=split).save("ablation.json")
"""

from __future__ import annotations

from neuroheat.lazy import lazy_exports

_LAZY = {
    "Labels": "neuroheat.probing.labels",
    "read_labels": "neuroheat.probing.labels",
    "CONLLU_COLUMNS": "neuroheat.probing.labels",
    "top_neurons": "neuroheat.probing.rankings",
    "top_neurons_hard_threshold": "neuroheat.probing.rankings",
    "bottom_neurons": "neuroheat.probing.rankings",
    "neuron_ordering": "neuroheat.probing.rankings",
    "ordering_cutoffs": "neuroheat.probing.rankings",
    "entry_mass": "neuroheat.probing.rankings",
    "order_by_score": "neuroheat.probing.rankings",
    "ClassMeans": "neuroheat.probing.means",
    "class_means": "neuroheat.probing.means",
    "probeless": "neuroheat.probing.means",
    "probeless_scores": "neuroheat.probing.means",
    "Ranking": "neuroheat.probing.result",
    "ProbeData": "neuroheat.probing.data",
    "select_columns": "neuroheat.probing.data",
    "split_sentences": "neuroheat.probing.splits",
    "Probe": "neuroheat.probing.probe",
    "ProbeConfig": "neuroheat.probing.config",
    "Split": "neuroheat.probing.config",
    "select_penalty": "neuroheat.probing.selection",
    "AblationResult": "neuroheat.probing.ablations",
    "LayerwiseResult": "neuroheat.probing.results",
    "ControlResult": "neuroheat.probing.results",
    "ProbeResult": "neuroheat.probing.results",
    "classification_scores": "neuroheat.probing.metrics",
    "regression_scores": "neuroheat.probing.metrics",
    "ablation": "neuroheat.probing.ablations",
    "layerwise": "neuroheat.probing.ablations",
    "DEFAULT_FRACTIONS": "neuroheat.probing.ablations",
    "control_labels": "neuroheat.probing.control",
    "control_task": "neuroheat.probing.control",
    "selectivity": "neuroheat.probing.control",
    "METHODS": "neuroheat.probing.methods",
    "rank": "neuroheat.probing.methods",
    "gaussian": "neuroheat.probing.gaussian_probe",
    "GaussianRanking": "neuroheat.probing.gaussian_probe",
    "class_moments": "neuroheat.probing.gaussian_probe",
    "iou": "neuroheat.probing.iou_masks",
    "IoURanking": "neuroheat.probing.iou_masks",
    "redundancy_clusters": "neuroheat.probing.clustering",
    "RedundancyClusters": "neuroheat.probing.clustering",
    "layerwise_figure": "neuroheat.probing.figures",
    "class_distribution_figure": "neuroheat.probing.figures",
    "box_stats": "neuroheat.probing.figures",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())

"""seqexplain — from FASTA files to a trained, regularized CNN and what it learned.

``import seqexplain as sx`` offers the verbs an analysis script needs:

=============================  =====================================================
sequences                      ``one_hot``, ``encode``, ``decode``, ``reverse_complement``,
                               ``read_fasta``, ``iter_fasta``, ``read_encoded``,
                               ``iter_encoded``, ``dinucleotide_shuffle``
editing sequences              ``substitute``, ``insert`` (a motif: string, one-hot or PWM),
                               ``shuffle_region``, ``sample_pwm`` — on one-hot arrays
models                         ``load_model`` (a model folder, a ``.keras``/``.h5`` file, a
                               Keras model or a ``ModelBundle`` → ``ModelBundle``: the one
                               loader), ``predict(model, X, target=…)`` (arrays or strings →
                               outputs), ``train_model`` (FASTA + labels → a model folder),
                               ``TrainSettings.from_yaml``/``read_train_setup`` (a config file
                               + overrides),
                               ``predict_fasta``, ``evaluate_fasta``
attribution                    ``attribute(model, X, method=…)``, ``register_rule`` (a custom
                               layer's DeepLIFT rule), ``explain_fasta`` (FASTA →
                               attributions file), ``explain_files`` (all ``seqexplain
                               explain`` writes: scores, logos, motifs, MoDISco inputs),
                               ``export_modisco``, ``Attributions`` (read a scores file),
                               ``METHODS``, ``parse_targets`` / ``explained_target`` (which
                               output of a multi-output or profile model is explained)
pictures and motifs            ``plot_logo`` (an (L, C) array), ``plot_attributions`` (X +
                               scores), ``draw_logos`` (a scores file → a folder of logos),
                               ``select_sequences``, ``sequence_scores``,
                               ``plot_attribution``, ``plot_pwm``, ``plot_cwm``,
                               ``discover_motifs``, ``load_database``, ``load_motifs``,
                               ``write_report``
in-silico experiments          ``marginalize``, ``ablate``, ``space``, ``dosage`` (what
                               motifs do to the output; ``func=`` any array verb),
                               ``shuffled_backgrounds``
sequence design                ``design`` (the fewest edits towards a goal, each linked to
                               the motif it makes or breaks → ``Design``), ``design_files``
                               (what ``seqexplain design`` writes)
simulation                     ``simulate_sequences`` (planted motifs, known ground truth)
genome coordinates             ``read_regions`` (BED/narrowPeak + genome FASTA → records that
                               go wherever a FASTA path goes), ``gc_matched_background``,
                               ``score_variants``/``write_variants`` (VCF → variant effects),
                               ``plot_allele_pair``
=============================  =====================================================

Every name loads on first use (PEP 562), TensorFlow only where a model runs, so
``import seqexplain`` takes milliseconds (the command line installs its Ctrl-C handling before
anything heavy loads). No public name is also the name of a module.
"""

from __future__ import annotations

__version__ = "0.1.0"

import importlib

from .errors import SeqexplainError

#: public name → (module, name in it), imported on first use
_LAZY = {
    **{name: ("alphabets", name) for name in ("DNA", "RNA", "PROTEIN", "Alphabet",
                                              "detect_alphabet", "get_alphabet")},
    **{name: ("encoding", name) for name in ("OneHot", "encode", "one_hot", "decode",
                                             "reverse_complement")},
    **{name: ("fasta", name) for name in ("FastaRecords", "read_fasta", "iter_fasta",
                                          "iter_fasta_batches", "read_encoded",
                                          "iter_encoded")},
    "dinucleotide_shuffle": ("shuffle", "dinucleotide_shuffle"),
    **{name: ("experiments", name) for name in ("marginalize", "ablate", "space", "dosage",
                                                "shuffled_backgrounds")},
    "ModelBundle": ("bundle", "ModelBundle"),
    "load_model": ("bundle", "load_model"),
    "ModelSettings": ("models", "ModelSettings"),
    "TrainSettings": ("training.settings", "TrainSettings"),
    "TrainSetup": ("training.settings", "TrainSetup"),
    "read_train_setup": ("training.settings", "read_train_setup"),
    "train_model": ("train_run", "train_model"),
    "predict_fasta": ("prediction", "predict_fasta"),
    "evaluate_fasta": ("prediction", "evaluate_fasta"),
    "METHODS": ("attribution.registry", "METHODS"),
    "attribute": ("attribution.registry", "attribute"),
    "register_rule": ("attribution.engine", "register_rule"),
    "parse_targets": ("heads", "parse_targets"),
    "explained_target": ("attribution.multi_output", "explained_target"),
    "Attributions": ("attributions", "Attributions"),
    "ExplainSettings": ("explain", "ExplainSettings"),
    "explain_fasta": ("explain", "explain_fasta"),
    "explain_fasta_dask": ("distributed", "explain_fasta_dask"),
    "explain_files": ("explain_run", "explain_files"),
    "ExplainResult": ("explain_run", "ExplainResult"),
    "export_modisco": ("exports", "export_modisco"),
    "draw_logos": ("logos", "draw_logos"),
    "predict_fasta_dask": ("distributed", "predict_fasta_dask"),
    "select_sequences": ("logos", "select_indices"),
    "sequence_scores": ("logos", "sequence_scores"),
    "plot_attribution": ("logos", "plot_attribution"),
    "plot_pwm": ("logos", "plot_pwm"),
    "plot_cwm": ("logos", "plot_cwm"),
    "MotifSettings": ("motifs.clustering", "MotifSettings"),
    "discover_motifs": ("motifs.pipeline", "run_motifs"),
    "load_database": ("motifs.pipeline", "load_database"),
    "load_motifs": ("motif_io", "load_motifs"),
    "simulate_sequences": ("simulate", "simulate"),
    "read_regions": ("genome", "read_regions"),
    "RegionSource": ("genome", "RegionSource"),
    "gc_matched_background": ("genome", "gc_matched_background"),
    "VariantSettings": ("variants", "VariantSettings"),
    "score_variants": ("variants", "score_variants"),
    "write_variants": ("variants", "write_variants"),
    "plot_allele_pair": ("logos", "plot_allele_pair"),
    "design": ("sequence_design", "design"),
    "Design": ("sequence_design", "Design"),
    "design_files": ("sequence_design", "design_files"),
    "write_report": ("report", "write_report"),
    "predict": ("prediction", "predict"),
    "substitute": ("edit", "substitute"),
    "insert": ("edit", "insert"),
    "shuffle_region": ("edit", "shuffle_region"),
    "sample_pwm": ("edit", "sample_pwm"),
    "plot_logo": ("logos", "plot_logo"),
    "plot_attributions": ("logos", "plot_attributions"),
}

__all__ = ["__version__", "SeqexplainError", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

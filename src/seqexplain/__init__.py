"""seqexplain — from FASTA files to a trained, regularized CNN and what it learned.

The package imports light modules eagerly (sequences, encoding, FASTA); modules that need
TensorFlow are imported on first use, so ``import seqexplain`` stays fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .alphabets import DNA, PROTEIN, RNA, Alphabet, detect_alphabet, get_alphabet
from .encoding import OneHot, decode, encode, one_hot, reverse_complement
from .errors import SeqexplainError
from .fasta import FastaRecords, iter_encoded, iter_fasta, iter_fasta_batches, read_encoded, read_fasta

__all__ = [
    "__version__", "Alphabet", "DNA", "RNA", "PROTEIN", "detect_alphabet", "get_alphabet",
    "OneHot", "encode", "one_hot", "decode", "reverse_complement", "SeqexplainError",
    "FastaRecords", "read_fasta", "iter_fasta", "iter_fasta_batches", "read_encoded",
    "iter_encoded",
]

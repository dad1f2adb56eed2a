"""Labels for FASTA records, three ways:

1. a table (TSV/CSV, read with pandas): first column the record id, each further column a
   target — numbers (regression, or 0/1) or strings (class names);
2. ``label=VALUE`` tokens in the FASTA header descriptions;
3. several FASTA files, each one class named after its file stem.

:func:`labels_for` picks the right one and returns a DataFrame aligned with the records.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from .errors import SeqexplainError
from .fasta import FastaRecords

_LABEL_TOKEN = re.compile(r"(?:^|\s)label=(\S+)")
_FASTA_SUFFIXES = {".fa", ".fasta", ".fna", ".faa", ".ffn", ".frn", ".fas", ".seq", ".txt",
                   ".bed", ".narrowpeak", ".broadpeak"}  # regions files name classes too


def _first_few(items, k: int = 3) -> str:
    items = list(items)
    shown = ", ".join(repr(x) for x in items[:k])
    return shown + (", …" if len(items) > k else "")


def read_label_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a labels table; returns a DataFrame indexed by id (str), one column per target.

    The separator is a comma for ``.csv`` files and a tab otherwise. Empty cells are errors
    (a NaN label cannot be trained on), as are duplicate ids and a table without targets."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise SeqexplainError(f"{path}: no such file")
    sep = "," if path.lower().endswith((".csv", ".csv.gz")) else "\t"
    try:
        table = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, comment=None)
    except pd.errors.EmptyDataError:
        raise SeqexplainError(f"{path}: empty labels file") from None
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise SeqexplainError(f"{path}: cannot read labels table ({str(exc).splitlines()[0]})"
                              ) from None
    if table.shape[1] < 2:
        hint = " (is it comma-separated? name it .csv)" if sep == "\t" and "," in \
            (table.columns[0] if len(table.columns) else "") else ""
        raise SeqexplainError(f"{path}: needs an id column and at least one target column{hint}")
    if table.empty:
        raise SeqexplainError(f"{path}: the labels table has a header but no rows")
    id_col = table.columns[0]
    table[id_col] = table[id_col].str.strip()
    dup = table[id_col][table[id_col].duplicated()]
    if len(dup):
        raise SeqexplainError(f"{path}: {dup.nunique()} duplicate id(s) in the labels table "
                              f"(first: {_first_few(dup.unique())})")
    table = table.set_index(id_col)
    table.index.name = "id"
    return _typed(table, path)


def _typed(table: pd.DataFrame, source: str) -> pd.DataFrame:
    """Columns of numbers become float, others stay strings (class names); empty → error."""
    out = {}
    for col in table.columns:
        values = table[col].astype(str).str.strip()
        empty = values.isin(["", "NA", "NaN", "nan", "N/A", "null", "None"])
        if empty.any():
            bad = values.index[empty]
            raise SeqexplainError(f"{source}: column {col!r}: {int(empty.sum())} missing "
                                  f"(NaN/empty) label(s) (first: {_first_few(bad)})")
        numeric = pd.to_numeric(values, errors="coerce")
        out[col] = numeric.astype(float) if numeric.notna().all() else values
    return pd.DataFrame(out, index=table.index)


def join_labels(ids: list[str], table: pd.DataFrame, fasta_name: str, table_name: str
                ) -> pd.DataFrame:
    """Rows of ``table`` in the order of ``ids``; every id must be in both."""
    index = pd.Index(ids)
    missing = index.difference(table.index, sort=False)
    if len(missing):
        raise SeqexplainError(f"{table_name}: {len(missing)} record id(s) of {fasta_name} have "
                              f"no label (first: {_first_few(missing)})")
    extra = table.index.difference(index, sort=False)
    if len(extra):
        raise SeqexplainError(f"{table_name}: {len(extra)} labelled id(s) are not in "
                              f"{fasta_name} (first: {_first_few(extra)})")
    return table.loc[index]


def labels_from_descriptions(records: FastaRecords) -> pd.DataFrame | None:
    """``label=VALUE`` tokens from FASTA headers, or ``None`` if no header has one."""
    values = []
    for desc in records.descriptions:
        m = _LABEL_TOKEN.search(desc)
        values.append(m.group(1) if m else None)
    have = [v is not None for v in values]
    if not any(have):
        return None
    if not all(have):
        missing = [rid for rid, h in zip(records.ids, have) if not h]
        raise SeqexplainError(f"{_names(records)}: {len(missing)} record(s) have no label= "
                              f"token in their header (first: {_first_few(missing)})")
    table = pd.DataFrame({"label": values}, index=pd.Index(records.ids, name="id"))
    return _typed(table, _names(records))


def file_class(path: str | os.PathLike) -> str:
    """The class name of a FASTA file: its name without ``.gz`` and the FASTA suffix."""
    p = Path(path)
    if p.suffix.lower() == ".gz":
        p = p.with_suffix("")
    return p.stem if p.suffix.lower() in _FASTA_SUFFIXES else p.name


def labels_from_sources(records: FastaRecords, names: list[str] | None = None
                        ) -> pd.DataFrame:
    """One class per FASTA file, named after the file stem (``pos.fa`` → ``pos``), or
    ``names[i]`` for the i-th file when given."""
    sources = list(dict.fromkeys(records.sources))
    names = [file_class(s) for s in sources] if names is None else list(names)
    if len(set(names)) < len(names):
        raise SeqexplainError(f"FASTA files {', '.join(sources)} give the same class name "
                              "twice; rename them or pass --labels")
    by_source = dict(zip(sources, names))
    table = pd.DataFrame({"label": [by_source[s] for s in records.sources]},
                         index=pd.Index(records.ids, name="id"))
    table.attrs["class_order"] = names  # the files' order: the first file is the positive class
    return table


def labels_for(records: FastaRecords, labels: str | os.PathLike | None = None
               ) -> pd.DataFrame | None:
    """Labels aligned with ``records``: from a table if given, else one class per FASTA file
    when there are several files, else ``label=`` header tokens; ``None`` if there are none."""
    if labels is not None:
        return join_labels(records.ids, read_label_table(labels), _names(records),
                           os.fspath(labels))
    if len(set(records.sources)) > 1:
        return labels_from_sources(records)
    return labels_from_descriptions(records)


def _names(records: FastaRecords) -> str:
    return ", ".join(dict.fromkeys(records.sources)) or "FASTA"

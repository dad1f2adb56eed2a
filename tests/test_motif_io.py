"""Motif files (JASPAR, MEME minimal, MEME XML), consensus motifs, name lookup, MEME output."""

import numpy as np
import pytest
from Bio import motifs as bio_motifs
from helpers import data_file

from seqexplain import SeqexplainError
from seqexplain.motif_io import (DEFAULT_NSITES, Motif, consensus_motif, load_motifs,
                                 read_motifs, write_meme)

NAMES = ["GATA1", "CTCF", "REST", "SOX2", "FOXA1", "HNF4A", "Nrf1", "Yy1", "MAX", "NFKB1",
         "STAT1", "ELK1"]

MEME_XML = """<?xml version='1.0' encoding='UTF-8' standalone='yes'?>
<MEME version="5.5.4">
<training_set primary_sequences="peaks.fa" primary_count="2" primary_positions="40">
<alphabet name="DNA" like="dna"></alphabet>
<letter_frequencies><alphabet_array>
<value letter_id="A">0.25</value><value letter_id="C">0.25</value>
<value letter_id="G">0.25</value><value letter_id="T">0.25</value>
</alphabet_array></letter_frequencies>
<sequence id="sequence_0" name="peak1" length="20" weight="1.0" />
<sequence id="sequence_1" name="peak2" length="20" weight="1.0" />
</training_set>
<model><command_line>meme peaks.fa -dna</command_line></model>
<motifs>
<motif id="motif_1" name="CACGTG" alt="MEME-1" width="6" sites="2" e_value="1.0e-002">
<contributing_sites>
<contributing_site sequence_id="sequence_0" position="3" strand="plus" pvalue="1e-4">
<site>{site1}</site></contributing_site>
<contributing_site sequence_id="sequence_1" position="5" strand="minus" pvalue="1e-4">
<site>{site2}</site></contributing_site>
</contributing_sites>
</motif>
</motifs>
</MEME>
"""


def letter_refs(site):
    return "".join(f'<letter_ref letter_id="{letter}"/>' for letter in site)


@pytest.fixture
def meme_file():
    return data_file("motifs", "jaspar2024_selected.meme")


@pytest.fixture
def jaspar_file():
    return data_file("motifs", "jaspar2024_selected.jaspar")


def test_meme_and_jaspar_files_give_the_same_motifs(meme_file, jaspar_file):
    from_meme, from_jaspar = read_motifs(meme_file), read_motifs(jaspar_file)
    assert [m.name for m in from_meme] == [m.name for m in from_jaspar] == NAMES
    for a, b in zip(from_meme, from_jaspar):
        assert a.id == b.id and a.width == b.width and a.pfm.shape == (a.width, 4)
        np.testing.assert_allclose(a.pfm.sum(axis=1), 1, atol=1e-12)
        # MEME files are read to 1/nsites (Biopython rebuilds counts from nsites).
        np.testing.assert_allclose(a.pfm, b.pfm, atol=1 / a.nsites)
    ctcf = from_jaspar[1]
    assert (ctcf.id, ctcf.nsites, ctcf.source) == ("MA0139.2", 913, str(jaspar_file))
    # Channels are A, C, G, T: JASPAR counts column 2 = A 56, C 800, G 21, T 36.
    np.testing.assert_allclose(ctcf.pfm[1], np.array([56, 800, 21, 36]) / 913)


def test_meme_xml_output_is_read(tmp_path):
    path = tmp_path / "meme.xml"
    path.write_text(MEME_XML.format(site1=letter_refs("CACGTG"), site2=letter_refs("CATGTG")))
    (motif,) = read_motifs(path)
    assert (motif.id, motif.name, motif.nsites) == ("CACGTG", "MEME-1", 2)
    np.testing.assert_array_equal(motif.pfm[2], [0, 0.5, 0, 0.5])


def test_rna_meme_reads_u_as_t(tmp_path):
    path = tmp_path / "rna.meme"
    path.write_text("MEME version 4\n\nALPHABET= ACGU\n\nBackground letter frequencies\n"
                    "A 0.25 C 0.25 G 0.25 U 0.25\n\nMOTIF m1 stem\n"
                    "letter-probability matrix: alength= 4 w= 2 nsites= 10\n"
                    "0.1 0.2 0.3 0.4\n0 0 0 1\n\n")
    (motif,) = read_motifs(path)
    assert (motif.id, motif.name) == ("m1", "stem")
    np.testing.assert_allclose(motif.pfm, [[0.1, 0.2, 0.3, 0.4], [0, 0, 0, 1]])


@pytest.mark.parametrize("content, message", [
    ("hello\nworld\n", "not a JASPAR or MEME motif file"),
    (">MA1 X\nA [ 1 2 ]\nC [ 0 0 ]\nG [ 0 0 ]\nT [ 0 0 ]\n", None),
    (">MA1 X\nA [ 1 0 ]\nC [ 0 0 ]\nG [ 0 0 ]\nT [ 0 0 ]\n", "motif 'MA1': position 2 has no"),
    ("", "not a JASPAR or MEME motif file"),
    ("MEME version 4\n\nALPHABET= ACDEFGHIKLMNPQRSTVWY\n", "cannot read it as MEME"),
])
def test_bad_motif_files(tmp_path, content, message):
    path = tmp_path / "motifs.txt"
    path.write_text(content)
    if message is None:
        (motif,) = read_motifs(path)  # a valid file, as a control
        np.testing.assert_allclose(motif.pfm, [[1, 0, 0, 0], [1, 0, 0, 0]])
        return
    with pytest.raises(SeqexplainError, match=message) as info:
        read_motifs(path)
    assert str(path) in str(info.value)


def test_missing_motif_file(tmp_path):
    with pytest.raises(SeqexplainError, match="no such motif file"):
        read_motifs(tmp_path / "nope.meme")


def test_consensus_motif_iupac_rows():
    motif = consensus_motif("acgRyNB")
    assert (motif.id, motif.name, motif.source, motif.width) == ("ACGRYNB", "ACGRYNB",
                                                                  "consensus", 7)
    expected = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0.5, 0, 0.5, 0], [0, 0.5, 0, 0.5],
                [0.25] * 4, [0, 1 / 3, 1 / 3, 1 / 3]]
    np.testing.assert_allclose(motif.pfm, expected, atol=1e-7)
    np.testing.assert_allclose(motif.pfm.sum(axis=1), 1, atol=1e-12)
    with pytest.raises(SeqexplainError, match=r"IUPAC letters .*\(not EX\)"):
        consensus_motif("CAXGTE")


def test_load_motifs_resolves_ids_names_and_consensus(meme_file):
    found = load_motifs(["ctcf", "MA0035.5", "ma0143", " Nrf1 ", "CACGTG"], [meme_file])
    assert [m.id for m in found] == ["MA0139.2", "MA0035.5", "MA0143.5", "MA0506.3", "CACGTG"]
    assert found[-1].source == "consensus"
    # A name in the file wins over reading the token as a consensus.
    assert load_motifs(["MAX"], [meme_file])[0].id == "MA0058.4"


def test_load_motifs_unknown_token_lists_what_is_available(meme_file):
    with pytest.raises(SeqexplainError) as info:
        load_motifs(["CTCF", "NOTAMOTIF1"], [meme_file])
    message = str(info.value)
    assert "unknown motif 'NOTAMOTIF1'" in message and str(meme_file) in message
    assert "CTCF (MA0139.2)" in message and "ELK1 (MA0028.3)" in message
    with pytest.raises(SeqexplainError, match="no motif file was given"):
        load_motifs(["CTCF"])


def test_load_motifs_refuses_ambiguous_names(meme_file, jaspar_file):
    with pytest.raises(SeqexplainError, match="'CTCF' is ambiguous: it matches MA0139.2"):
        load_motifs(["CTCF"], [meme_file, jaspar_file])


def test_write_meme_round_trips_through_biopython(tmp_path, jaspar_file):
    motifs = read_motifs(jaspar_file) + [consensus_motif("CCGCGNGGNGGCAG")]
    path = write_meme(motifs, tmp_path / "out.meme")
    with open(path) as handle:
        parsed = list(bio_motifs.parse(handle, "minimal"))
    assert [m.name for m in parsed] == [m.id for m in motifs]
    for ours, theirs in zip(motifs, parsed):
        counts = np.array([theirs.counts[b] for b in "ACGT"], dtype=float).T
        nsites = ours.nsites or DEFAULT_NSITES
        assert theirs.num_occurrences == nsites
        np.testing.assert_allclose(counts / counts.sum(axis=1, keepdims=True), ours.pfm,
                                   atol=1 / nsites)
    again = read_motifs(path)
    assert [(m.id, m.name) for m in again] == [(m.id, m.name) for m in motifs]
    for ours, back in zip(motifs, again):
        np.testing.assert_allclose(back.pfm, ours.pfm, atol=1 / back.nsites)
    assert path.read_text().count("MOTIF CCGCGNGGNGGCAG\n") == 1  # no repeated name


def test_write_meme_is_atomic_and_refuses_to_overwrite(tmp_path):
    path = tmp_path / "m.meme"
    motif = Motif("my id", "my name", np.full((3, 4), 0.25), "test")
    write_meme([motif], path)
    assert "MOTIF my_id my_name" in path.read_text()
    with pytest.raises(SeqexplainError, match="exists; pass --force"):
        write_meme([motif], path)
    write_meme([consensus_motif("ACGT")], path, force=True)
    assert read_motifs(path)[0].id == "ACGT"
    with pytest.raises(SeqexplainError, match="no motifs to write"):
        write_meme([], tmp_path / "empty.meme")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.meme"]

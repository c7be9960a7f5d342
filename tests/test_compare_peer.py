"""benchmarks/quality/compare_peer.py's blind judging without the peer: blind rows exist for
every shipped painting (the sheet's five first, so an old seed's shuffle of their rows stays
the same), and a judge's answers are tallied per painting against the key."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from livestyle.discovery import PACKAGE_WEIGHTS_DIR, scan_styles

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "quality" / "compare_peer.py"
spec = importlib.util.spec_from_file_location("livestyle_compare_peer", PATH)
compare_peer = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = compare_peer
spec.loader.exec_module(compare_peer)


def test_blind_rows_exist_for_every_shipped_painting_the_sheets_five_first() -> None:
    paintings = compare_peer.blind_paintings()
    shipped = {info.name for info in scan_styles([PACKAGE_WEIGHTS_DIR])}
    assert set(paintings) == shipped and len(paintings) == 12
    assert list(paintings)[:5] == list(compare_peer.PAINTINGS)
    assert paintings["mondrian"] == "mondrian_tableau_no2_composition_vii.jpg"


def test_a_judges_answers_are_tallied_per_painting() -> None:
    key = [
        {"row": 1, "painting": "udnie", "ours": "A"},
        {"row": 2, "painting": "udnie", "ours": "B"},
        {"row": 3, "painting": "adele", "ours": "B"},
    ]
    assert compare_peer.score(key, ["a", "A", "B"]) == {"udnie": (1, 2), "adele": (1, 1)}
    with pytest.raises(SystemExit, match="2 answers for 3 rows"):
        compare_peer.score(key, ["A", "B"])

"""McCulloch–Pitts units: exact truth tables, the ≥ threshold, the 16 gates and XOR's missing setting."""

from itertools import product

import numpy as np
import pytest

from learnscope.lessons.threshold_logic import (
    INPUT_PAIRS,
    PRESETS,
    XOR,
    describe_search,
    gate_name,
    mcculloch_pitts,
    settings_computing,
    truth_table,
)

LOGIC = {"AND": lambda a, b: a and b, "OR": lambda a, b: a or b, "NOT x₁": lambda a, b: not a}


@pytest.mark.parametrize("name", PRESETS)
def test_the_presets_truth_tables_are_exactly_the_gates(name):
    weights, threshold = PRESETS[name]
    expected = tuple(int(bool(LOGIC[name](a, b))) for a, b in INPUT_PAIRS)
    assert truth_table(weights, threshold) == expected
    assert gate_name(expected) == ("x₁ AND x₂", "x₁ OR x₂", "NOT x₁")[list(PRESETS).index(name)]


def test_the_unit_fires_when_the_sum_reaches_the_threshold_not_only_above_it():
    assert mcculloch_pitts([[1, 1], [1, 0]], [1, 1], 2).tolist() == [1, 0]        # 2 ≥ 2 fires, 1 ≥ 2 does not
    assert mcculloch_pitts([[1, 1]], [0.5, 0.5], 1.0000001).tolist() == [0]


def test_fourteen_of_the_sixteen_gates_have_a_setting_and_only_xor_and_xnor_have_none():
    tables = list(product((0, 1), repeat=4))
    names = {gate_name(table) for table in tables}
    assert len(names) == 16                                           # every table has its own name
    missing = [gate_name(table) for table in tables if not settings_computing(table)]
    assert missing == ["x₁ XOR x₂", "x₁ XNOR x₂"]
    # a wider search finds no XOR either (the proof says: none at any size)
    assert settings_computing(XOR, values=np.arange(-6, 6.5, 0.5)) == []


def test_every_setting_found_really_computes_its_gate():
    for table in ((0, 0, 0, 1), (1, 1, 1, 0), (0, 0, 1, 0)):
        found = settings_computing(table)
        assert found
        for w1, w2, theta in found:
            fired = [int(w1 * a + w2 * b >= theta) for a, b in INPUT_PAIRS]
            assert tuple(fired) == table


def test_the_search_sentence_counts_what_it_says():
    text = describe_search()
    assert f"{len(settings_computing((0, 0, 0, 1)))} compute AND" in text
    assert f"{len(settings_computing((0, 1, 1, 1)))} compute OR" in text
    assert "none computes XOR" in text and "343 settings" in text


def test_bad_inputs_say_what_was_expected():
    with pytest.raises(ValueError, match="inputs of 0s and 1s"):
        mcculloch_pitts([[0.5, 1]], [1, 1], 1)
    with pytest.raises(ValueError, match="one weight per input"):
        mcculloch_pitts([[0, 1]], [1, 1, 1], 1)
    with pytest.raises(ValueError, match="four 0/1 answers"):
        gate_name((0, 1, 1))


def test_truth_table_rows_carry_each_weighted_sum():
    from learnscope.lessons.threshold_logic import truth_table_rows

    assert truth_table_rows((2, -1), 1) == [(0, 0, 0.0, 0), (0, 1, -1.0, 0), (1, 0, 2.0, 1), (1, 1, 1.0, 1)]

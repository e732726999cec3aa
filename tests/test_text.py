"""Plain-text numbers: a probability is never printed as a certainty it is not."""

from __future__ import annotations

import pytest

from bayesmeta.presentation.text import fmt_prob, prob_equals


@pytest.mark.parametrize("p, n_draws, shown", [
    (0.034, None, "0.034"),
    (0.0004, None, "0.0004"),
    (4.9e-6, None, "< 0.0001"),       # exact: four decimals would print 0.0000
    (0.0, None, "< 0.0001"),
    (1 - 3e-6, None, "> 0.9999"),
    (0.99991, None, "0.9999"),
    (0.0, 4000, "< 0.0003"),          # no draw beyond the threshold: a bound from 4,000 draws
    (1.0, 4000, "> 0.9998"),
])
def test_probabilities_are_bounds_where_digits_would_say_certainty(p, n_draws, shown):
    assert fmt_prob(p, n_draws) == shown


def test_bounds_read_as_inequalities():
    assert prob_equals("P(OR > 1.5)", 4.9e-6) == "P(OR > 1.5) < 0.0001"
    assert prob_equals("P(OR > 1)", 0.23) == "P(OR > 1) = 0.230"


def test_summary_lines_write_a_bound_as_an_inequality():
    """`P(OR > 1) < 0.0003` (no draw above 1 among 4,000), never `P(OR > 1) = < 0.0003`."""
    from bayesmeta.presentation.text import prob_line

    bound = prob_line("P(OR > 1)", 0.0, 4000, "that ...")
    assert bound.split()[:4] == ["P(OR", ">", "1)", "<"] and "0.0003" in bound
    assert "=" not in bound
    value = prob_line("P(OR > 1)", 0.034, 4000, "that ...")
    assert value.split()[3:5] == ["=", "0.034"]
    # the columns line up either way
    assert bound.index("0.0003") + len("0.0003") == value.index("0.034") + len("0.034")

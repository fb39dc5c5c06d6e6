"""The benchmarks' turn-taking helper: contenders alternate round by round, and the first is the reference."""

import pytest

from bench.interleave import interleaved, report


def test_contenders_take_turns_and_each_figure_stays_with_its_round():
    calls = []

    def contender(name, figure):
        def run():
            calls.append(name)
            return figure + len(calls)

        return run

    figures = interleaved({"a": contender("a", 0.0), "b": contender("b", 100.0)}, 3)
    assert calls == ["a", "b", "a", "b", "a", "b"]
    assert figures == {"a": [1.0, 3.0, 5.0], "b": [102.0, 104.0, 106.0]}


def test_fewer_than_three_rounds_are_refused():
    with pytest.raises(ValueError, match="at least 3 rounds"):
        interleaved({"a": lambda: 1.0}, 2)


def test_report_gives_medians_and_ratios_to_the_first():
    lines = report({"ours": [1.0, 9.0, 2.0], "peer": [4.0, 6.0, 5.0]}, unit="s")
    assert lines[1].split()[:3] == ["ours", "2.00", "1.00"]
    assert lines[2].split()[:3] == ["peer", "5.00", "2.50"]
    assert lines[2].endswith("4.00, 6.00, 5.00")

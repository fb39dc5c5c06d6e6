"""Run contenders interleaved (a, b, a, b, …) and print their medians and ratios (a helper of the benchmarks).

A machine shared with other work slows down and speeds up from minute to minute; taking turns spreads that over
every contender alike, and the median of the rounds ignores a round a neighbour spoiled.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

Contender = Callable[[], float]
"""One round of a contender: runs it and returns its figure (time, lower is better)."""


def interleaved(contenders: dict[str, Contender], rounds: int) -> dict[str, list[float]]:
    """Run every contender once per round, in turn, for `rounds` rounds; return each one's figure per round."""
    if rounds < 3:
        raise ValueError("at least 3 rounds")
    figures: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            figures[name].append(run())
    return figures


def report(figures: dict[str, list[float]], *, unit: str, scale: float = 1.0, digits: int = 2) -> list[str]:
    """Return lines of each contender's median and rounds, and its ratio to the first (the project's own)."""
    medians = {name: statistics.median(values) for name, values in figures.items()}
    ours = next(iter(medians.values()))
    width = max(len(name) for name in figures)
    lines = [f"{'':{width}}  {'median ' + unit:>14}  {'× ours':>7}  rounds"]
    for name, values in figures.items():
        rounds = ", ".join(f"{value * scale:.{digits}f}" for value in values)
        ratio = medians[name] / ours if ours else float("nan")
        lines.append(f"{name:{width}}  {medians[name] * scale:14.{digits}f}  {ratio:7.2f}  {rounds}")
    return lines

"""Benchmarks behind ``make bench``: each ``bench/bench_*.py`` has a ``run()`` returning figures.

A figure is a :class:`Result` (one value, with the baseline it is compared against in the same
run) or a :class:`Growth` point (time and memory at a number of rows, so a series of them
shows how a cost grows with the data).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Result:
    """One measured figure, with the baseline it is compared against in the same run."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    target: str = ""

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    def line(self) -> str:
        text = f"{self.name}: {self.value:,.2f} {self.unit}"
        if self.baseline:
            text += f" (ratio {self.ratio:.3f} against baseline {self.baseline:,.2f})"
        if self.target:
            text += f" [target: {self.target}]"
        return text


@dataclass
class Growth:
    """One point of a series: the cost of an operation over ``rows`` rows."""

    series: str
    rows: int
    seconds: float
    peak_mb: float | None = None
    #: False when ``seconds`` is already the cost of one operation, whatever the rows.
    per_row: bool = True

    def line(self) -> str:
        text = f"{self.series} at {self.rows:,} rows: {self.seconds:.4f} s"
        if self.per_row:
            text += f" ({self.seconds / self.rows * 1e6:.2f} µs/row)"
        if self.peak_mb is not None:
            text += f", peak memory {self.peak_mb:.1f} MB"
        return text

"""Benchmarks behind ``make bench``: each ``bench/bench_*.py`` has a ``run() -> list[Result]``."""

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

    def line(self) -> str:
        text = f"{self.name}: {self.value:,.2f} {self.unit}"
        if self.baseline:
            text += (
                f" (ratio {self.value / self.baseline:.3f} against baseline {self.baseline:,.2f})"
            )
        if self.target:
            text += f" [target: {self.target}]"
        return text

"""The response of a creator's new customers to weekly spend: a saturating curve
``n(s) = A · (1 - exp(-s / B))``, evaluated on posterior draws (one row of parameters a draw).

A creator observed at spend ``x`` with ``r`` new customers per unit of spend there, and headroom
``h`` (``B = h · x``), has ``A = r · x / (1 - exp(-1/h))``: the curve passes through what was
observed and bends as the headroom says.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


@dataclass(frozen=True)
class ResponseDraws:
    """Posterior draws of every creator's curve: ``ceiling`` (A) and ``scale`` (B), shaped
    (creators, draws)."""

    ceiling: Array
    scale: Array

    @classmethod
    def through(cls, rate: Array, headroom: Array, spend: Array) -> ResponseDraws:
        """Curves through ``rate`` new customers per unit at ``spend`` (creators,) with
        ``headroom`` in multiples of that spend; ``rate`` and ``headroom`` are (creators, draws)."""
        at = spend[:, None]
        return cls(ceiling=rate * at / -np.expm1(-1.0 / headroom), scale=headroom * at)

    def customers(self, spend: Array) -> Array:
        """Expected new customers per draw: at one spend per creator (creators,) it is
        (creators, draws); at k spends per creator (creators, k) it is (creators, k, draws)."""
        if spend.ndim == 1:
            return self.ceiling * -np.expm1(-spend[:, None] / self.scale)
        scale = self.scale[:, None, :]
        return self.ceiling[:, None, :] * -np.expm1(-spend[..., None] / scale)

    def marginal(self, spend: Array) -> Array:
        """New customers per extra unit of spend at ``spend`` (creators,), per draw."""
        return self.ceiling / self.scale * np.exp(-spend[:, None] / self.scale)

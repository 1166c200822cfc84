"""A decaying histogram with exponential buckets (pure): the storage behind every usage estimate.

Used by `kubewise.rightsizing.usage` (ours) and `kubewise.rightsizing.vpa` (the VPA baseline); the
platform keeps one per container and resource as the JSON of `to_json`. Bucket `i` starts at
`first_bucket * (ratio**i - 1) / (ratio - 1)`, so every bucket is `ratio` times wider than the one
before: relative error stays ~5 % from millicores to hundreds of cores with a few hundred buckets.
Values above `max_value` land in the last bucket, so the bucket count -- and the storage -- is fixed.

Weights decay with a half-life: a sample added one half-life later than another counts twice as much.
Instead of touching every bucket as time passes, weights are stored relative to a reference time and
new samples are scaled up by `2 ** ((at - reference) / half_life)`; the reference moves forward (and
all weights are scaled down once) when that factor would grow large, and buckets whose weight has
become negligible are dropped then -- that is the histogram's memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DecayingHistogram"]

_REBASE_HALF_LIVES = 1.0  # rebase (and forget negligible buckets) about once a half-life
_NEGLIGIBLE = 1e-4  # a bucket lighter than this fraction of the total is forgotten at a rebase
_MAX_BUCKETS = 1000  # hard bound whatever the parameters say
_MAX_HALVINGS = 1000.0  # 2**1000 is near the float limit; beyond it every old weight is negligible


@dataclass(slots=True)
class DecayingHistogram:
    """Weighted samples in exponential buckets; `percentile` answers with a bucket's upper bound."""

    first_bucket: float
    max_value: float
    ratio: float = 1.05
    half_life: float = 24 * 3600.0
    reference_at: float | None = None
    last_at: float | None = None
    _weights: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (self.first_bucket > 0 and self.max_value > self.first_bucket):
            raise ValueError(f"need 0 < first_bucket < max_value, got {self.first_bucket}, {self.max_value}")
        if not self.ratio > 1:
            raise ValueError(f"bucket ratio must be > 1, got {self.ratio}")
        if not self.half_life > 0:
            raise ValueError(f"half_life must be > 0 seconds, got {self.half_life}")
        if self.bucket_count > _MAX_BUCKETS:
            raise ValueError(f"{self.bucket_count} buckets needed, at most {_MAX_BUCKETS}: widen ratio")

    @property
    def bucket_count(self) -> int:
        """How many buckets there can ever be (the last one takes everything above max_value)."""
        span = self.max_value * (self.ratio - 1) / self.first_bucket + 1
        return math.ceil(math.log(span) / math.log(self.ratio)) + 1

    def bucket_start(self, index: int) -> float:
        """The lowest value bucket `index` holds."""
        return self.first_bucket * (self.ratio**index - 1) / (self.ratio - 1)

    def bucket_of(self, value: float) -> int:
        """The bucket a value falls in (negative values in the first, huge ones in the last)."""
        if value < self.first_bucket:
            return 0
        index = int(math.log(value * (self.ratio - 1) / self.first_bucket + 1) / math.log(self.ratio))
        # float rounding can put a value sitting on a boundary one bucket off either way
        if index > 0 and self.bucket_start(index) > value:
            index -= 1
        elif self.bucket_start(index + 1) <= value:
            index += 1
        return min(index, self.bucket_count - 1)

    @property
    def is_empty(self) -> bool:
        return not self._weights

    @property
    def total_weight(self) -> float:
        """The sum of the weights, decayed to the time of the latest sample."""
        return self.total_weight_at(self.last_at) if self.last_at is not None else 0.0

    def total_weight_at(self, now: float) -> float:
        """The sum of the weights as they stand at `now` (half of it one half-life later)."""
        if self.reference_at is None:
            return 0.0
        return sum(self._weights.values()) / self._factor(now)

    def add(self, value: float, weight: float, at: float) -> None:
        """Add `weight` (as of time `at`) to the bucket of `value`."""
        if not (math.isfinite(value) and math.isfinite(weight) and math.isfinite(at)):
            raise ValueError(f"value, weight and time must be finite, got {value}, {weight}, {at}")
        if weight < 0:
            raise ValueError(f"weight must be >= 0, got {weight}")
        if weight == 0:
            return
        if self.reference_at is None:
            self.reference_at = at
        elif (at - self.reference_at) / self.half_life > _REBASE_HALF_LIVES:
            self._rebase(at)
        index = self.bucket_of(value)
        self._weights[index] = self._weights.get(index, 0.0) + weight * self._factor(at)
        self.last_at = at if self.last_at is None else max(self.last_at, at)

    def subtract(self, value: float, weight: float, at: float) -> None:
        """Take back a weight added earlier with the same value and time (a replaced interval peak)."""
        if self.reference_at is None:
            return
        index = self.bucket_of(value)
        left = self._weights.get(index, 0.0) - weight * self._factor(at)
        if left <= 1e-12 * max(1.0, sum(self._weights.values())):
            self._weights.pop(index, None)
        else:
            self._weights[index] = left

    def percentile(self, q: float) -> float:
        """The smallest bucket upper bound under which a fraction `q` of the weight lies (0 if empty)."""
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"percentile must be within [0, 1], got {q}")
        if not self._weights:
            return 0.0
        threshold = q * sum(self._weights.values())
        running = 0.0
        last = max(self._weights)
        for index in sorted(self._weights):
            running += self._weights[index]
            if running >= threshold:
                return self._upper_bound(index)
        return self._upper_bound(last)

    def max_value_seen(self) -> float:
        """The upper bound of the highest bucket the histogram still remembers (0 if empty)."""
        return self._upper_bound(max(self._weights)) if self._weights else 0.0

    def copy(self) -> DecayingHistogram:
        return DecayingHistogram.from_json(self.to_json())

    def to_json(self) -> dict[str, Any]:
        """A JSON-able document; only non-empty buckets are listed."""
        return {
            "firstBucket": self.first_bucket,
            "maxValue": self.max_value,
            "ratio": self.ratio,
            "halfLife": self.half_life,
            "referenceAt": self.reference_at,
            "lastAt": self.last_at,
            "buckets": {str(index): weight for index, weight in sorted(self._weights.items())},
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> DecayingHistogram:
        """The histogram `to_json` wrote; a ValueError names what is wrong with a bad document."""
        try:
            histogram = cls(
                first_bucket=float(doc["firstBucket"]),
                max_value=float(doc["maxValue"]),
                ratio=float(doc["ratio"]),
                half_life=float(doc["halfLife"]),
                reference_at=None if doc.get("referenceAt") is None else float(doc["referenceAt"]),
                last_at=None if doc.get("lastAt") is None else float(doc["lastAt"]),
            )
            weights = {int(index): float(weight) for index, weight in dict(doc["buckets"]).items()}
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a histogram document: {error!r}") from error
        bad = [i for i, w in weights.items() if not (0 <= i < histogram.bucket_count) or w < 0]
        if bad:
            raise ValueError(f"histogram document has invalid buckets {bad[:5]}")
        if weights and histogram.reference_at is None:
            raise ValueError("histogram document has buckets but no referenceAt")
        histogram._weights = {i: w for i, w in weights.items() if w > 0}
        return histogram

    def _factor(self, at: float) -> float:
        assert self.reference_at is not None
        # clamped so that a history left alone for years neither overflows nor divides by zero
        halvings = min(max((at - self.reference_at) / self.half_life, -_MAX_HALVINGS), _MAX_HALVINGS)
        return float(2.0**halvings)

    def _upper_bound(self, index: int) -> float:
        if index >= self.bucket_count - 1:
            return self.max_value
        return self.bucket_start(index + 1)

    def _rebase(self, at: float) -> None:
        assert self.reference_at is not None
        if (at - self.reference_at) / self.half_life >= _MAX_HALVINGS:
            self._weights = {}  # older than anything a float can still weigh
        scale = 1.0 / self._factor(at)
        self.reference_at = at
        self._weights = {i: w * scale for i, w in self._weights.items()}
        floor = _NEGLIGIBLE * sum(self._weights.values())
        self._weights = {i: w for i, w in self._weights.items() if w >= floor}

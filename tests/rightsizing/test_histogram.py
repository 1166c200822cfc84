"""DecayingHistogram: percentiles within a bucket of numpy's, decay by half-lives, bounded size, JSON."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from kubewise.rightsizing import DecayingHistogram

DAY = 86400.0


def _cpu() -> DecayingHistogram:
    return DecayingHistogram(first_bucket=0.01, max_value=1000.0)


def test_percentiles_bracket_the_exact_ones_within_one_bucket() -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(-1.0, 0.8) for _ in range(5000)]
    histogram = _cpu()
    for value in values:
        histogram.add(value, 1.0, at=0.0)
    for q in (0.5, 0.9, 0.95, 0.99):
        exact = float(np.quantile(values, q, method="inverted_cdf"))
        estimate = histogram.percentile(q)
        # the upper bound of the bucket holding the exact percentile: >= it, <= 5 % + a first bucket above
        assert exact <= estimate <= exact * 1.05 + 0.01, (q, exact, estimate)


def test_percentile_of_small_known_sample() -> None:
    histogram = _cpu()
    for value in (0.1, 0.2, 0.3, 0.4, 1.0):
        histogram.add(value, 1.0, at=0.0)
    # a bucket is at most 5 % of its start plus the first bucket's width wide
    assert 0.3 <= histogram.percentile(0.6) <= 0.3 * 1.05 + 0.01
    assert 1.0 <= histogram.percentile(1.0) <= 1.0 * 1.05 + 0.01
    assert 0.1 <= histogram.percentile(0.0) <= 0.1 * 1.05 + 0.01
    assert histogram.percentile(0.0) < histogram.percentile(0.6) < histogram.percentile(1.0)


def test_a_sample_one_half_life_later_weighs_twice_as_much() -> None:
    histogram = _cpu()
    histogram.add(0.1, 1.0, at=0.0)
    histogram.add(1.0, 1.0, at=DAY)
    # as of the later sample the first weighs 0.5: total 1.5, and the median is the later (heavier) value
    assert histogram.total_weight == pytest.approx(1.5)
    assert histogram.percentile(0.5) > 0.9
    assert histogram.total_weight_at(2 * DAY) == pytest.approx(0.75)
    # with equal decayed weights the median would fall on the first value: 0.4 of the weight is below it
    assert histogram.percentile(0.3) < 0.2


def test_weights_stay_right_across_many_rebases() -> None:
    histogram = _cpu()
    for day in range(60):
        histogram.add(0.5, 1.0, at=day * DAY)
    # a geometric series: 1 + 1/2 + 1/4 + ... -> 2
    assert histogram.total_weight == pytest.approx(2.0, rel=1e-6)


def test_old_negligible_buckets_are_forgotten_and_count_is_bounded() -> None:
    histogram = _cpu()
    histogram.add(500.0, 1.0, at=0.0)  # one huge sample, then a month of small ones
    for minute in range(0, 30 * 1440, 10):
        histogram.add(0.2, 1.0, at=minute * 60.0)
    assert histogram.max_value_seen() < 0.25
    rng = random.Random(1)
    for _ in range(20000):
        histogram.add(rng.uniform(0, 5000), 1.0, at=30 * DAY)
    assert len(histogram.to_json()["buckets"]) <= histogram.bucket_count
    assert histogram.bucket_count < 200
    assert histogram.percentile(1.0) == 1000.0  # above max_value: the last bucket, capped at max_value


def test_json_round_trip_is_exact() -> None:
    histogram = _cpu()
    for i in range(100):
        histogram.add(0.01 * i, 1.0 + i % 3, at=i * 600.0)
    doc = json.loads(json.dumps(histogram.to_json()))
    again = DecayingHistogram.from_json(doc)
    assert again.to_json() == histogram.to_json()
    assert again.percentile(0.9) == histogram.percentile(0.9)
    again.add(5.0, 1.0, at=100 * 600.0)
    assert again.percentile(1.0) != histogram.percentile(1.0)  # a copy, not a view


def test_subtract_takes_back_a_sample() -> None:
    histogram = _cpu()
    histogram.add(0.2, 1.0, at=0.0)
    histogram.add(3.0, 1.0, at=10.0)
    histogram.subtract(3.0, 1.0, at=10.0)
    assert histogram.max_value_seen() < 0.25


def test_empty_histogram_answers_zero() -> None:
    assert _cpu().percentile(0.9) == 0.0
    assert _cpu().total_weight == 0.0


@pytest.mark.parametrize(
    "bad",
    [
        {"firstBucket": 0.01},
        {"firstBucket": 0.01, "maxValue": 10, "ratio": 1.05, "halfLife": 1, "buckets": {"99999": 1.0}},
        {"firstBucket": 0.01, "maxValue": 10, "ratio": 1.05, "halfLife": 1, "buckets": {"1": 1.0}},
    ],
)
def test_bad_documents_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        DecayingHistogram.from_json(bad)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="first_bucket"):
        DecayingHistogram(first_bucket=0, max_value=1)
    with pytest.raises(ValueError, match="buckets"):
        DecayingHistogram(first_bucket=1e-9, max_value=1e12, ratio=1.001)
    with pytest.raises(ValueError, match="finite"):
        _cpu().add(float("nan"), 1.0, at=0.0)
    with pytest.raises(ValueError, match="percentile"):
        _cpu().percentile(1.5)


def test_a_history_left_alone_for_years_starts_over_without_overflow() -> None:
    histogram = _cpu()
    histogram.add(5.0, 1.0, at=0.0)
    assert histogram.total_weight_at(3000 * DAY) < 1e-300
    histogram.add(0.2, 1.0, at=3000 * DAY)
    assert histogram.total_weight == pytest.approx(1.0)
    assert histogram.max_value_seen() < 0.25

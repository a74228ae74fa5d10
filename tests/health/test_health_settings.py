"""The [health] section of retain.toml: weights validated by component name, bands ordered."""

from __future__ import annotations

import pytest

from retain.errors import ConfigError
from retain.settings import HealthComponent, Settings


def _load(tmp_path, text: str) -> Settings:
    (tmp_path / "retain.toml").write_text(text, encoding="utf-8")
    return Settings.load(tmp_path)


def test_weights_and_bands_are_read_from_the_toml(tmp_path):
    settings = _load(tmp_path, "[health]\nweights = {engagement = 2, payment = 1}\ngreen_min = 80\n")
    assert settings.health.weights == {"engagement": 2.0, "payment": 1.0}
    assert (settings.health.green_min, settings.health.yellow_min) == (80.0, 40.0)


def test_default_weights_cover_every_component_and_each_group_sums_to_one(tmp_path):
    weights = Settings.load(tmp_path).health.weights
    assert set(weights) == {str(c) for c in HealthComponent}
    subscription = ("engagement", "usage_trend", "support", "sentiment", "payment", "adoption")
    shop = ("cadence", "order_trend", "alive", "refunds")
    assert set(subscription) | set(shop) == set(weights)
    assert sum(weights[c] for c in subscription) == pytest.approx(1.0)
    assert sum(weights[c] for c in shop) == pytest.approx(1.0)


def test_unknown_component_is_rejected_with_the_valid_list(tmp_path):
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, "[health]\nweights = {engagment = 1}\n")
    message = str(info.value)
    assert "key 'health.weights'" in message
    assert "unknown health component(s) ['engagment']" in message
    assert "valid components: engagement, usage_trend, support, sentiment, payment, adoption" in message


@pytest.mark.parametrize(
    ("weights", "expected"),
    [("{engagement = 0, payment = 0}", "sum to more than 0"), ("{payment = -1, engagement = 2}", ">= 0")],
)
def test_weights_must_be_non_negative_and_not_all_zero(tmp_path, weights, expected):
    with pytest.raises(ConfigError, match=expected):
        _load(tmp_path, f"[health]\nweights = {weights}\n")


def test_yellow_band_must_not_start_above_green(tmp_path):
    with pytest.raises(ConfigError, match=r"yellow_min \(80.0\) must not exceed green_min \(70.0\)"):
        _load(tmp_path, "[health]\nyellow_min = 80\n")


def test_weights_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("RETAIN_HEALTH__WEIGHTS", '{"support": 1}')
    assert Settings.load(tmp_path).health.weights == {"support": 1.0}

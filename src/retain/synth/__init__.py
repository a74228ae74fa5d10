"""Synthetic data generator: a realistic, seeded, streaming simulation of a company's customers.

``generate(out, customers=20_000, model="subscription", seed=0)`` writes the canonical tables and the true
monthly churn probability of every customer (``ground_truth/``), so models can be checked against the truth.
"""

from retain.synth.generate import GROUND_TRUTH, SynthSummary, generate
from retain.synth.params import HazardCoefficients, SynthModel
from retain.synth.simulation import GROUND_TRUTH_SCHEMA

__all__ = ["GROUND_TRUTH", "GROUND_TRUTH_SCHEMA", "HazardCoefficients", "SynthModel", "SynthSummary", "generate"]

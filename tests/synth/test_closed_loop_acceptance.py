"""Issue 9's acceptance "Uplift is recovered", over 20 simulation seeds (4-5 minutes on 2 busy cores).

The same run as ``retain simulate --playbooks tests/synth/closed_loop/playbooks --reactions
tests/synth/closed_loop/reactions.yaml --customers 2000 --months 2 --seeds 20 --effect save_offer --null placebo``
(weekly playbook runs; docs/models.md). Every seed is repeatable (the arms' salt comes from the seed), so the
counts are fixed: 18 of 20 covered, the placebo significant in 2 of 20, CUPED half-widths 0.83 of the raw ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from retain.services.simulate_acceptance import acceptance, simulate_seeds
from retain.synth.reactions import load_reactions

FIXTURES = Path(__file__).parent / "closed_loop"


@pytest.mark.slow
def test_uplift_is_recovered_over_20_seeds(tmp_path):
    results = simulate_seeds(
        tmp_path,
        seeds=20,
        customers=2_000,
        months=2,
        playbooks=FIXTURES / "playbooks",
        reactions=load_reactions(FIXTURES / "reactions.yaml"),
    )
    summary = acceptance(results, effect="save_offer", null="placebo")
    assert summary.covered >= 18  # the true effect inside the reported 95 % interval
    assert summary.bias_in_half_widths <= 0.25  # mean estimate within a quarter of the mean half-width of the truth
    assert summary.seeds - summary.null_significant >= 18  # no effect: not significant
    assert summary.srm_failures == 0
    assert summary.holdout_messages == 0  # counted at the simulated channel
    assert summary.cuped_width_ratio < 0.9  # CUPED narrows the interval (pre: subscribed at enrolment)
    assert summary.mean_truth > 0.005  # a real effect to recover: about 1.3 points of retention
    assert summary.passed

"""How simulated customers react to what retain sends them: hazard multipliers declared in settings.

A reactions file (YAML) maps a playbook name to its effect on the churn hazard of the month after a customer
received one of its messages, with conditions on the customer's *true* state that month::

    reactions:
      wake_up: {hazard_multiplier: 0.7, only_if_driver: disengaged}      # -30 % for disengaged customers only
      price_offer: {hazard_multiplier: 0.6, only_if_price_sensitive: true}
      placebo: {hazard_multiplier: 1.0}

``only_if_driver`` is the month's true driver (:data:`retain.synth.simulation.DRIVERS`: the reason code of the
largest observable term of the hazard, what ``ground_truth/churn_probability`` records); ``only_if_price_sensitive``
holds when the plan's price term adds risk (subscription: ``price · log(mrr / 49) + annual · is_annual > 0``, i.e.
monthly billing on the business plan; a shop has no price term). A playbook without a reaction has no effect.
Several messages of one playbook in one month count once; reactions to different playbooks multiply.

Multipliers are at most 1: a message can only lower the hazard. That keeps the simulation's truth exact with a
single simulated world (a customer kept by a message is alive in the world that is simulated, so the world
without the message is a replay of the same draws; see :mod:`retain.synth.closed_loop`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from retain.contract.taxonomy import ReasonCode
from retain.errors import ConfigError

__all__ = ["DEFAULT_REACTIONS", "CustomerState", "Reaction", "Reactions", "load_reactions"]


@dataclass(frozen=True)
class CustomerState:
    """The true state of every customer in one month, what reactions are conditioned on (arrays over customers).

    Attributes
    ----------
    driver : numpy.ndarray
        The month's true driver as a reason-code string per customer (``""`` when no observable term adds risk).
    price_sensitive : numpy.ndarray
        Whether the plan's price term adds risk this month.
    """

    driver: np.ndarray
    price_sensitive: np.ndarray


class Reaction(BaseModel):
    """One playbook's effect on the churn hazard of the month after its message.

    Attributes
    ----------
    hazard_multiplier : float
        The month's hazard is multiplied by this, in (0, 1] (1: no effect).
    only_if_driver : list of ReasonCode, optional
        Only customers whose true driver that month is one of these react (one code or a list in the file).
    only_if_price_sensitive : bool
        Only customers whose plan's price term adds risk react.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    hazard_multiplier: float = Field(gt=0.0, le=1.0)
    only_if_driver: tuple[ReasonCode, ...] | None = None
    only_if_price_sensitive: bool = False

    @field_validator("only_if_driver", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        if isinstance(value, str):
            return (value,)
        return value

    def multiplier(self, state: CustomerState, customers: np.ndarray) -> np.ndarray:
        """The hazard multiplier of each customer in ``customers`` (indices into ``state``'s arrays)."""
        reacts = np.ones(len(customers), dtype=bool)
        if self.only_if_driver is not None:
            reacts &= np.isin(state.driver[customers], [str(code) for code in self.only_if_driver])
        if self.only_if_price_sensitive:
            reacts &= state.price_sensitive[customers]
        return np.where(reacts, self.hazard_multiplier, 1.0)


class Reactions(BaseModel):
    """Every playbook's reaction (``reactions:`` of the file); playbooks not listed have no effect."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reactions: dict[str, Reaction] = Field(default_factory=dict)

    def get(self, playbook: str) -> Reaction | None:
        """The reaction to ``playbook``'s messages, or ``None`` (no effect)."""
        return self.reactions.get(playbook)

    @classmethod
    def parse(cls, data: Mapping[str, object], *, source: str = "reactions") -> Reactions:
        """Validate a mapping (a parsed file); errors name the source, the key and the valid keys or values."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            lines = []
            for error in exc.errors():
                where = ".".join(str(part) for part in error["loc"])
                if error["type"] == "extra_forbidden":
                    valid = (
                        "reactions"
                        if len(error["loc"]) == 1
                        else ", ".join(Reaction.model_fields)  # a key inside one playbook's reaction
                    )
                    lines.append(f"{where}: unknown key; valid keys: {valid}")
                elif error["type"] == "enum":
                    lines.append(f"{where}: {error['input']!r} is not a reason code; valid: {', '.join(ReasonCode)}")
                else:
                    lines.append(f"{where}: {error['msg']} (got {error.get('input')!r})")
            raise ConfigError(
                f"Invalid reactions in {source}:\n  " + "\n  ".join(lines) + "\nA reaction is e.g. "
                "`wake_up: {hazard_multiplier: 0.7, only_if_driver: disengaged}`; multipliers are in (0, 1]."
            ) from None


def load_reactions(path: Path | str) -> Reactions:
    """Read a reactions YAML file (see the module docstring).

    Raises
    ------
    ConfigError
        The file is missing, is not YAML, or holds an unknown key or an invalid value.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"Reactions file {path} does not exist; pass an existing YAML file to --reactions.")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML ({exc}). Fix the syntax.") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping with a `reactions:` key; got {type(data).__name__}.")
    return Reactions.parse(data, source=str(path))


DEFAULT_REACTIONS = Reactions.parse(
    {
        "reactions": {
            "wake_up": {"hazard_multiplier": 0.7, "only_if_driver": "disengaged"},
            "re_engagement": {"hazard_multiplier": 0.7, "only_if_driver": "disengaged"},
            "onboarding_nudge": {"hazard_multiplier": 0.8, "only_if_driver": ["disengaged", "early_life"]},
            "welcome": {"hazard_multiplier": 0.85, "only_if_driver": "early_life"},
            "price_offer": {"hazard_multiplier": 0.6, "only_if_price_sensitive": True},
            "dunning": {"hazard_multiplier": 0.5, "only_if_driver": "payment_failed"},
            "service_recovery": {"hazard_multiplier": 0.7, "only_if_driver": "poor_service"},
            "complaint_help": {"hazard_multiplier": 0.8, "only_if_driver": "poor_service"},
            "detractor_follow_up": {"hazard_multiplier": 0.85, "only_if_driver": "dissatisfied"},
        }
    },
    source="DEFAULT_REACTIONS",
)
"""What ``retain simulate`` uses without ``--reactions``: plausible effects for the built-in playbooks."""

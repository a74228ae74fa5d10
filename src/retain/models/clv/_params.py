"""scikit-learn's parameter protocol (get_params / set_params) without importing scikit-learn.

scikit-learn is not a core dependency of retain; this mixin is enough for ``sklearn.base.clone`` and
grid searches to work when it is installed.
"""

from __future__ import annotations

import inspect
from typing import Any

from retain.errors import InputError

__all__ = ["ParamsMixin"]


class ParamsMixin:
    """Adds ``get_params``, ``set_params`` and a parameter ``repr`` from the keyword-only ``__init__``."""

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return sorted(p.name for p in signature.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters by name (``deep`` is accepted for scikit-learn compatibility)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> ParamsMixin:
        """Set constructor parameters; unknown names are rejected. Returns ``self``."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise InputError(f"{type(self).__name__} has no parameter {name!r}; valid parameters: {valid}.")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values() if p.name != "self"
        }
        changed = [
            f"{k}={v!r}" for k, v in self.get_params().items() if v is not defaults.get(k) and v != defaults.get(k)
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

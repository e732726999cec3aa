"""Validation layer: simulation-based calibration of the models (see :mod:`.sbc`).

Sits beside the results layer: it uses data, priors, models and inference, and nothing above.
"""

from bayesmeta.validation.sbc import CASES, SBCCase, SBCResult, register_case, run_sbc

__all__ = ["CASES", "SBCCase", "SBCResult", "register_case", "run_sbc"]

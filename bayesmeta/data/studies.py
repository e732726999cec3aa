"""What the per-study data classes share: choosing studies, and pairing arms into studies.

Every data type with one entry per study (binary, rates, effects, continuous) can keep a
subgroup (``select``) or leave one study out (``without``); the checks and messages are the
same for all, so they live here and return which studies to keep — each class then builds
its own instance from the kept rows. Readers of one-row-per-arm tables share the matching
of ``arm`` labels to treatment and control.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from bayesmeta.data.table import Table
from bayesmeta.errors import InputError

TREATMENT_LABELS = frozenset({"treatment", "t", "trt", "exp", "experimental", "intervention",
                              "active", "msc"})
CONTROL_LABELS = frozenset({"control", "c", "ctrl", "placebo", "comparator", "usual care"})

#: The default arm labels as error messages list them.
ARM_LABELS_TEXT = ("treatment/t/exp/experimental/intervention/active/msc or "
                   "control/c/ctrl/placebo/comparator")


class TwoArmEvents:
    """For data with events per arm (``study``, ``events_t``, ``events_c``): the number of
    studies and which have no events in either arm."""

    # Declared here for the type checker; the data classes define them as fields.
    study: tuple[str, ...]
    events_t: np.ndarray
    events_c: np.ndarray

    @property
    def k(self) -> int:
        """Number of studies."""
        return len(self.study)

    @property
    def double_zero(self) -> np.ndarray:
        """True for studies with no events in either arm (kept in every Bayesian model)."""
        return (self.events_t == 0) & (self.events_c == 0)


def subgroup_mask(data: Any, column: str, value: str) -> np.ndarray:
    """Which studies have ``value`` in the extra column ``column`` (at least two must)."""
    if column not in data.extra.columns:
        have = ", ".join(data.extra.columns) or "none"
        raise InputError(f"no column '{column}' to select on (extra columns: {have})",
                         source=data.source)
    keep = (data.extra[column].astype(str) == value).to_numpy()
    if keep.sum() < 2:
        levels = ", ".join(sorted(set(data.extra[column].astype(str))))
        raise InputError(
            f"{column} = '{value}' leaves {int(keep.sum())} studies; a meta-analysis "
            f"needs at least two (values present: {levels})", source=data.source)
    return keep


def leave_out_mask(data: Any, study: str) -> np.ndarray:
    """Every study but ``study`` (which must exist, and leave at least two)."""
    if study not in data.study:
        raise InputError(f"no study '{study}' in the data (studies: "
                         f"{', '.join(data.study)})", source=data.source)
    if data.k < 3:
        raise InputError(f"leaving out '{study}' would leave {data.k - 1} study; a "
                         "meta-analysis needs at least two", source=data.source)
    return np.array([s != study for s in data.study])


def kept_studies(study: Sequence[str], keep: np.ndarray) -> tuple[str, ...]:
    return tuple(s for s, k in zip(study, keep, strict=True) if k)


def kept_extra(extra: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """The extra columns of the kept studies (an empty frame stays as it is)."""
    return extra.loc[keep].reset_index(drop=True) if not extra.empty else extra


def with_extra(frame: pd.DataFrame, extra: pd.DataFrame) -> pd.DataFrame:
    """``frame`` followed by the extra columns, if there are any."""
    if not extra.empty:
        frame = pd.concat([frame, extra.reset_index(drop=True)], axis=1)
    return frame


def arm_role(label: str, treatment: str | None, control: str | None) -> str | None:
    """``"t"``, ``"c"`` or None: the arm an ``arm`` cell names (the given labels, or else
    the common names)."""
    if treatment is not None or control is not None:
        return "t" if label == treatment else "c" if label == control else None
    low = label.strip().lower()
    return "t" if low in TREATMENT_LABELS else "c" if low in CONTROL_LABELS else None


def unknown_arm(table: Table, row: int, label: str, treatment: str | None,
                control: str | None, default_labels: str = ARM_LABELS_TEXT) -> InputError:
    """The error for an ``arm`` cell that names neither arm."""
    accepted = (f"'{treatment}' or '{control}'" if treatment or control else default_labels)
    return InputError(f"arm '{label}' is neither treatment nor control (accepted: "
                      f"{accepted}; name yours with --treatment and --control)",
                      source=table.source, row=table.row_of(row), column="arm")


def pair_arms(table: Table, study: Sequence[str], arm: Sequence[str], treatment: str | None,
              control: str | None, default_labels: str = ARM_LABELS_TEXT,
              ) -> tuple[list[str], dict[str, dict[str, int]]]:
    """Match the rows of a one-row-per-arm table to studies: the studies in order of first
    appearance and, per study, the row of each arm found (``"t"``, ``"c"``). A label naming
    neither arm, or a second arm of the same kind, is an error; a missing arm is left to
    the caller."""
    order: list[str] = []
    slots: dict[str, dict[str, int]] = {}
    for i, (s, a) in enumerate(zip(study, arm, strict=True)):
        role = arm_role(a, treatment, control)
        if role is None:
            raise unknown_arm(table, i, a, treatment, control, default_labels)
        if s not in slots:
            slots[s] = {}
            order.append(s)
        if role in slots[s]:
            raise InputError(
                f"study '{s}' has a second {'treatment' if role == 't' else 'control'} arm "
                f"(first in row {table.row_of(slots[s][role])}); combine arms or split the "
                "study", source=table.source, row=table.row_of(i), column="arm")
        slots[s][role] = i
    return order, slots

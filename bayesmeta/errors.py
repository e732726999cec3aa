"""The exceptions bayesmeta raises on purpose.

Every problem with what a user gave us (a data file, an option, a prior file) is an
:class:`InputError`. Its message is one line that names the place — file, row and column,
or option — and says what is wrong, so the command line can print it as is and exit with
status 2. Rows are numbered as a spreadsheet shows them: the header is row 1, the first
study row 2.
"""

from __future__ import annotations

from pathlib import Path


class BayesmetaError(Exception):
    """Base class of every error bayesmeta raises on purpose."""


class InputError(BayesmetaError, ValueError):
    """Bad user input: data file, option value, prior specification, output path.

    Parameters
    ----------
    message
        What is wrong, in words a user understands ("events (25) exceed n (20)").
    source
        The file (or option, e.g. ``"--tau-prior"``) where the problem is.
    row
        Spreadsheet row number (header = 1), when the problem is in one row, or a label
        such as ``"index 7"`` for a DataFrame row.
    column
        Column name, when the problem is in one column.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | Path | None = None,
        row: int | str | None = None,
        column: str | None = None,
    ) -> None:
        self.reason = message
        self.source = str(source) if source is not None else None
        self.row = row
        self.column = column
        super().__init__(self._format())

    def _format(self) -> str:
        place = []
        if self.source:
            place.append(self.source)
        if isinstance(self.row, str):
            place.append(self.row)  # e.g. "index 7" for a DataFrame
        elif self.row is not None:
            place.append(f"row {self.row}")
        if self.column is not None:
            place.append(f"column '{self.column}'")
        text = " ".join(self.reason.split())  # always one line
        return f"{', '.join(place)}: {text}" if place else text


class OutputExistsError(InputError):
    """An output file exists and ``force`` was not given."""

    def __init__(self, path: str | Path) -> None:
        super().__init__("file exists; pass --force (force=True) to overwrite it", source=path)

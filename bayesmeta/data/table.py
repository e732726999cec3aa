"""Read a user's table (CSV file or pandas DataFrame) into strings, with row numbers.

Everything is read as text first, so that later validation can say exactly which cell is
wrong ("row 5, column 'n_t': 'twelve' is not a number") instead of letting a parser guess.
The reader refuses — with a one-line :class:`~bayesmeta.errors.InputError` — files that
are empty, not text, Excel workbooks, not UTF-8 (unless an encoding is given), separated
by a different character than expected, or ragged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bayesmeta.errors import InputError

MISSING_TOKENS = frozenset({"", "na", "nan", "n/a", "null", "none", ".", "-"})

_EXCEL_MAGIC = {
    b"PK\x03\x04": "an Excel (.xlsx) workbook or another zip file",
    b"\xd0\xcf\x11\xe0": "an Excel (.xls) workbook",
}


@dataclass(frozen=True)
class Table:
    """A table of text cells with the place each row came from.

    ``frame`` holds stripped strings; ``rows`` gives, for each record, the row number a
    spreadsheet would show (header = 1) or, for a DataFrame, its index label.
    """

    frame: pd.DataFrame
    source: str
    rows: tuple[int | str, ...]

    def row_of(self, position: int) -> int | str:
        return self.rows[position]

    def has(self, column: str) -> bool:
        return column in self.frame.columns


def read_table(
    data: str | Path | pd.DataFrame,
    *,
    sep: str = ",",
    encoding: str = "utf-8",
    columns: Mapping[str, str] | None = None,
) -> Table:
    """Read ``data`` (a CSV path or a DataFrame) as a :class:`Table` of strings.

    ``columns`` renames the user's columns to ours: ``{"events_t": "r_exp"}`` means the
    user's column ``r_exp`` holds what we call ``events_t``.
    """
    if isinstance(data, pd.DataFrame):
        table = _table_from_frame(data)
    else:
        table = _table_from_csv(Path(data), sep=_separator(sep), encoding=encoding)
    if columns:
        table = _rename(table, columns)
    return table


def _table_from_frame(df: pd.DataFrame) -> Table:
    source = "data frame"
    names = [str(c).strip() for c in df.columns]
    _check_header(names, source, row=None)  # a data frame has no header row
    frame = df.copy()
    frame.columns = names
    text = frame.apply(lambda col: col.map(_cell_text))
    rows = tuple(f"index {label}" for label in df.index)
    return Table(text.reset_index(drop=True), source, rows)


_SEPARATOR_NAMES = {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "space": " "}


def _separator(sep: str) -> str:
    """The one-character field separator (``\\t``/``tab`` spell a tab)."""
    sep = _SEPARATOR_NAMES.get(sep.lower(), sep) if isinstance(sep, str) else sep
    if not isinstance(sep, str) or len(sep) != 1 or sep in "\"\r\n":
        raise InputError(f"must be one character such as ',' ';' or '\\t' (got {sep!r})",
                         source="--sep")
    return sep


_UNICODE_BOMS = {
    b"\xff\xfe\x00\x00": "utf-32", b"\x00\x00\xfe\xff": "utf-32",
    b"\xff\xfe": "utf-16", b"\xfe\xff": "utf-16",
}


def _wide_unicode(encoding: str) -> bool:
    return encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32", "utf16", "utf32"))


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    return str(value).strip()


def _table_from_csv(path: Path, *, sep: str, encoding: str) -> Table:
    source = str(path)
    if not path.exists():
        raise InputError("file not found", source=source)
    if path.is_dir():
        raise InputError("is a directory, not a CSV file", source=source)
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError("file is empty", source=source)
    for magic, what in _EXCEL_MAGIC.items():
        if raw.startswith(magic):
            raise InputError(
                f"is {what}, not a CSV file; save the sheet as 'CSV UTF-8' and use that file",
                source=source,
            )
    if not _wide_unicode(encoding):
        for bom, name in _UNICODE_BOMS.items():
            if raw.startswith(bom):
                raise InputError(f"is {name.upper()} text; save it as 'CSV UTF-8' or pass "
                                 f"--encoding {name} (encoding='{name}')", source=source)
        if b"\x00" in raw[:4096]:
            raise InputError("is a binary file, not a CSV text file", source=source)
    text = _decode(raw, encoding, source)
    first_line = text.lstrip().splitlines()[0] if text.strip() else ""
    if sep not in first_line:
        for other, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars"),
                            (",", "commas")):
            if other != sep and other in first_line:
                shown = "\\t" if other == "\t" else other
                raise InputError(
                    f"the header row is separated by {name}, not '{sep}'; "
                    f"pass --sep '{shown}' (sep='{shown}') to read it",
                    source=source,
                    row=1,
                )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, skipinitialspace=True)
    records: list[list[str]] = []
    rows: list[int] = []
    header: list[str] | None = None
    last_line = 0
    try:
        for record in reader:
            start, last_line = last_line + 1, reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue
            if any("\n" in cell or "\r" in cell for cell in record):
                raise InputError(
                    "a quote (\") opened in this row is not closed, so the field runs on "
                    f"to row {last_line}; close the quote or remove it",
                    source=source, row=start)
            if header is None:
                header = [cell.strip() for cell in record]
                continue
            if len(record) != len(header):
                raise InputError(
                    f"has {len(record)} fields but the header has {len(header)}",
                    source=source,
                    row=start,
                )
            records.append([cell.strip() for cell in record])
            rows.append(start)
    except csv.Error as exc:
        raise InputError(f"is not a readable CSV file ({exc})", source=source,
                         row=reader.line_num) from None
    if header is None:
        raise InputError("file is empty", source=source)
    header, records = _drop_empty_trailing_columns(header, records)
    _check_header(header, source)
    frame = pd.DataFrame(records, columns=header, dtype=object)
    return Table(frame, source, tuple(rows))


def _drop_empty_trailing_columns(header: list[str],
                                 records: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    """Drop columns at the right end with no name and no values (spreadsheets write them
    as trailing separators: ``a,b,,``); nothing with a value is ever dropped."""
    keep = len(header)
    while keep > 0 and not header[keep - 1] and all(not r[keep - 1] for r in records):
        keep -= 1
    if keep == len(header):
        return header, records
    return header[:keep], [r[:keep] for r in records]


def _decode(raw: bytes, encoding: str, source: str) -> str:
    try:
        text = raw.decode("utf-8-sig" if encoding.lower().replace("_", "-") in
                          {"utf-8", "utf8"} else encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"is not {encoding} text (byte 0x{raw[exc.start]:02x}); save it as 'CSV UTF-8' "
            "or pass --encoding (e.g. --encoding latin-1)",
            source=source,
            row=line,
        ) from None
    except LookupError:
        raise InputError(f"unknown text encoding '{encoding}'", source="--encoding") from None
    return text


def _check_header(names: list[str], source: str, *, row: int | None = 1) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names, start=1):
        if not name:
            raise InputError(f"header cell {i} is empty; every column needs a name",
                             source=source, row=row)
        if name in seen:
            raise InputError(f"column name '{name}' appears twice in the header",
                             source=source, row=row)
        seen.add(name)


def _rename(table: Table, columns: Mapping[str, str]) -> Table:
    present = set(table.frame.columns)
    renames: dict[str, str] = {}
    for ours, theirs in columns.items():
        if theirs not in present:
            raise InputError(
                f"column '{theirs}' (given for '{ours}') is not in the file; columns found: "
                + ", ".join(table.frame.columns),
                source=table.source,
            )
        renames[theirs] = ours
    clashes = [ours for ours in renames.values()
               if ours in present and ours not in renames]
    frame = table.frame.drop(columns=clashes).rename(columns=renames)
    return Table(frame, table.source, table.rows)


def resolve_aliases(table: Table, given: Mapping[str, str],
                    aliases: Mapping[str, tuple[str, ...]]) -> tuple[Table, dict[str, str]]:
    """Rename columns found under another tool's name (``aliases``: ours → theirs, in order
    of preference) to ours; return the table and which name each of our columns was read
    from (``given`` mappings first). A name that is itself one of ours is never renamed."""
    frame = table.frame
    used: dict[str, str] = dict(given)
    renames: dict[str, str] = {}
    for ours, names in aliases.items():
        if ours in frame.columns:
            used.setdefault(ours, ours)
            continue
        for alias in names:
            if alias in frame.columns and alias not in renames and alias not in aliases:
                renames[alias] = ours
                used[ours] = alias
                break
    return Table(frame.rename(columns=renames), table.source, table.rows), used

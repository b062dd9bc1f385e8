"""Reading a source CSV the same way in every importer: all cells as text, the index set to
the file's line numbers (so errors can name them), and the required columns checked."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pandas as pd

from kizuna.errors import DataError


def read_source_csv(path: Path, encoding: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """Read ``path`` as text; raise DataError naming the file and the first missing column."""
    try:
        frame = pd.read_csv(path, encoding=encoding, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"{path.name}: cannot read ({exc})", file=str(path)) from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path.name}: missing column(s) {', '.join(repr(m) for m in missing)}",
            hint=f"expected the columns {', '.join(columns)}",
            file=str(path),
            field=missing[0],
        )
    frame.index = pd.RangeIndex(2, len(frame) + 2)  # line 1 is the header
    return frame


def records(frame: pd.DataFrame) -> list[tuple[int, dict[str, str]]]:
    """(line number, row as a dict of text cells) for every row of a source frame."""
    rows = cast(list[dict[str, str]], frame.to_dict("records"))
    return list(zip((int(i) for i in frame.index.to_numpy()), rows, strict=True))

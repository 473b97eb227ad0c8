"""One small base for table results: :class:`TableResult`.

A table result (``TopWordsTable``, ``NeuronStats``, ``Contexts``, ``NeuronScores``) is a list
of rows. It exports them with :meth:`~TableResult.to_records` (JSON-ready dicts),
:meth:`~TableResult.to_csv` and :meth:`~TableResult.to_pandas` (pandas is optional and
imported only here), and saves / loads itself with :meth:`~TableResult.save` /
:meth:`~TableResult.load`: CSV or JSON, chosen by the file's suffix (never pickle). JSON keeps
everything; CSV keeps the rows (each class documents what its CSV leaves out). Floats are
written with ``repr``, so they load back bit for bit.

Example:
    >>> table = nh.analysis.neuron_stats("acts.h5")                # doctest: +SKIP
    >>> table.save("stats.json"); NeuronStats.load("stats.json")    # doctest: +SKIP
    >>> table.to_pandas().describe()                               # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from neuroheat.errors import InputError

T = TypeVar("T", bound="TableResult")

__all__ = ["TableResult", "read_csv_rows"]


def _cell(value: Any) -> Any:
    return repr(value) if isinstance(value, float) else value


def read_csv_rows(text: str) -> list[dict[str, str]]:
    """The rows of CSV ``text`` with a header row, as dicts of strings."""
    return list(csv.DictReader(io.StringIO(text)))


class TableResult:
    """Base of the table results. Subclasses define the rows and how to rebuild themselves.

    Subclasses implement :meth:`to_records`, :meth:`csv_header`, :meth:`csv_rows` (typed
    values; the same rows feed :meth:`to_pandas`), :meth:`settings` and the classmethods
    :meth:`from_records` and :meth:`from_csv_rows`.
    """

    #: the ``"type"`` written into saved JSON, checked when loading
    kind: ClassVar[str] = "table"

    # -- rows, provided by subclasses -------------------------------------------------------
    def to_records(self) -> list[dict[str, Any]]:  # pragma: no cover - overridden
        """One JSON-ready dict per row."""
        raise NotImplementedError

    def csv_header(self) -> list[str]:  # pragma: no cover - overridden
        """Column names of :meth:`to_csv` and :meth:`to_pandas`."""
        raise NotImplementedError

    def csv_rows(self) -> Iterable[list[Any]]:  # pragma: no cover - overridden
        """Rows of :meth:`to_csv` / :meth:`to_pandas`, as typed values."""
        raise NotImplementedError

    def settings(self) -> dict[str, Any]:
        """What the table was computed with (saved in JSON only)."""
        return {}

    @classmethod
    def from_records(cls: type[T], records: list[dict[str, Any]],
                     settings: dict[str, Any]) -> T:  # pragma: no cover - overridden
        """Rebuild a table from :meth:`to_records` and :meth:`settings`."""
        raise NotImplementedError

    @classmethod
    def from_csv_rows(cls: type[T], rows: list[dict[str, str]]) -> T:  # pragma: no cover
        """Rebuild a table from the rows of its CSV."""
        raise NotImplementedError

    # -- export -----------------------------------------------------------------------------
    def to_csv(self, path: str | os.PathLike | None = None) -> str | None:
        """CSV with a header row; writes ``path`` when given, else returns the text."""
        out = io.StringIO() if path is None else open(path, "w", newline="", encoding="utf-8")
        try:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(self.csv_header())
            for row in self.csv_rows():
                writer.writerow([_cell(v) for v in row])
            return out.getvalue() if path is None else None
        finally:
            if path is not None:
                out.close()

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` of the CSV rows (needs pandas: ``pip install pandas``)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(f"{type(self).__name__}.to_pandas needs pandas, which is not "
                              "installed: pip install pandas (or use to_records / to_csv)"
                              ) from None
        return pd.DataFrame(list(self.csv_rows()), columns=self.csv_header())

    def to_json(self) -> str:
        """JSON text of the table: its type, settings and records."""
        return json.dumps({"type": self.kind, "settings": self.settings(),
                           "records": self.to_records()}, ensure_ascii=False)

    # -- save / load ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the table to ``path``: ``.csv`` or ``.json``. Returns the path."""
        path = Path(path)
        fmt = _format_of(path)
        if fmt == "csv":
            self.to_csv(path)
        else:
            path.write_text(self.to_json() + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls: type[T], path: str | os.PathLike) -> T:
        """Read a table written by :meth:`save` (or :meth:`to_csv`)."""
        path = Path(path)
        fmt = _format_of(path)
        text = path.read_text(encoding="utf-8")
        if fmt == "csv":
            return cls.from_csv_rows(read_csv_rows(text))
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("type") != cls.kind:
            found = data.get("type") if isinstance(data, dict) else type(data).__name__
            raise InputError(f"{path} does not hold a saved {cls.__name__} (its type is "
                             f"{found!r}, expected {cls.kind!r})")
        return cls.from_records(data["records"], data.get("settings", {}))


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise InputError(f"cannot tell the format of {path}: name it .csv or .json")
    return suffix[1:]

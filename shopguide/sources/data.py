"""What an adapter returns: one read of a source in the canonical raw shape."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd


@dataclass
class SourceData:
    """One read of a source: customers, articles and transactions in the raw shape."""

    customers: pd.DataFrame
    articles: pd.DataFrame
    transactions: pd.DataFrame
    # entity -> file(s) read (several files of one entity joined with ", ").
    files: dict[str, str] = field(default_factory=dict)
    # Rows removed by the source's documented cleaning: reason -> row count.
    dropped: dict[str, int] = field(default_factory=dict)
    # Facts worth logging (e.g. customers derived from transactions).
    notes: list[str] = field(default_factory=list)

    def filter_transactions(self, mask: pd.Series | np.ndarray) -> SourceData:
        """The same source with only the transactions where ``mask`` is true.

        Customers and articles are the catalogue and customer base as exported and are
        kept whole: their files carry no date to cut them by.
        """
        return replace(self, transactions=self.transactions.loc[np.asarray(mask, dtype=bool)])

    def until(self, day) -> SourceData:
        """Transactions up to and including ``day`` (a run date: nothing after it is known yet)."""
        return self.filter_transactions(self.transactions["t_dat"] <= pd.Timestamp(day))

    def between(self, first_day, last_day) -> SourceData:
        """Transactions with ``first_day <= t_dat <= last_day``."""
        t = self.transactions["t_dat"]
        return self.filter_transactions(
            (t >= pd.Timestamp(first_day)) & (t <= pd.Timestamp(last_day))
        )

    def days(self) -> list[pd.Timestamp]:
        """The distinct purchase days present (nulls left out), ascending."""
        return sorted(self.transactions["t_dat"].dropna().unique())

    def summary(self) -> dict[str, int]:
        return {
            "customers": len(self.customers),
            "articles": len(self.articles),
            "transactions": len(self.transactions),
        }

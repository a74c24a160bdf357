"""Calendar of the synthetic shop: traffic by day (weekdays, sales, holidays) and the
yearly demand curve of each season's product types."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopguide.generate.vocabulary import DOW_WEIGHTS, MIDSEASON, SUMMER, WINTER


class _Calendar:
    def __init__(self, first_day: pd.Timestamp, days: int):
        self.first_day = first_day
        self.days = days
        self.dates = pd.date_range(first_day, periods=days, freq="D")
        self.weeks = (days + 6) // 7
        self.week_of_day = np.arange(days) // 7
        # Middle day of each week, for seasonal curves.
        mid = first_day + pd.to_timedelta(
            np.minimum(np.arange(self.weeks) * 7 + 3, days - 1), unit="D"
        )
        self.week_doy = mid.dayofyear.to_numpy()
        self.week_month_day = list(zip(mid.month, mid.day, strict=True))
        self.traffic = self._traffic()

    def day(self, day_index) -> np.ndarray:
        return (
            np.datetime64(self.first_day.date(), "D")
            + np.asarray(day_index).astype("timedelta64[D]")
        ).astype("datetime64[ns]")

    def _traffic(self) -> np.ndarray:
        d = self.dates
        weight = DOW_WEIGHTS[d.dayofweek.to_numpy()].copy()
        doy = d.dayofyear.to_numpy()
        # Slow yearly wave peaking in December, low in February.
        weight *= 1.0 + 0.12 * np.cos(2 * np.pi * (doy - 350) / 365.25)
        month, day = d.month.to_numpy(), d.day.to_numpy()
        weight *= np.where((month == 1) & (day <= 21), 1.3, 1.0)  # January sale
        weight *= np.where(
            ((month == 6) & (day >= 24)) | ((month == 7) & (day <= 21)), 1.25, 1.0
        )  # summer sale
        weight *= np.where((month == 12) & (day <= 23), 1.25, 1.0)  # Christmas run-up
        weight *= np.where((month == 12) & ((day == 24) | (day == 26)), 0.5, 1.0)
        weight *= np.where((month == 12) & (day == 25), 0.05, 1.0)  # closed; online only
        # Black Friday: the fourth Friday of November and the weekend after.
        black_friday = (month == 11) & (d.dayofweek.to_numpy() == 4) & (day >= 22) & (day <= 28)
        bf_idx = np.flatnonzero(black_friday)
        for offset, boost in (
            (0, 2.2),
            (1, 1.5),
            (2, 1.3),
            (3, 1.6),
        ):  # Fri, Sat, Sun, Cyber Monday
            idx = bf_idx + offset
            weight[idx[idx < len(weight)]] *= boost
        return weight

    def in_sale(self, week: int) -> bool:
        month, day = self.week_month_day[week]
        return (
            (month == 1 and day <= 21) or (month == 6 and day >= 24) or (month == 7 and day <= 21)
        )


def _season_curve(season: int, doy: np.ndarray) -> np.ndarray:
    """Relative demand of a season's product types over the year (mean about 1)."""
    if season == SUMMER:
        curve = np.exp(1.4 * np.cos(2 * np.pi * (doy - 190) / 365.25))
    elif season == WINTER:
        curve = np.exp(1.4 * np.cos(2 * np.pi * (doy - 10) / 365.25))
    elif season == MIDSEASON:
        curve = np.exp(0.9 * np.cos(4 * np.pi * (doy - 100) / 365.25))
    else:
        return np.ones(len(doy))
    return curve / np.exp(1.4 if season != MIDSEASON else 0.9) * 2.2

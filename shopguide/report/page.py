"""The report page's building blocks: a page of sections and charts, matplotlib figures
as inline PNGs, a line chart over run dates, and a query that is empty while its table
does not exist yet."""

from __future__ import annotations

import base64
import html
import io

import pandas as pd

from shopguide.warehouse import Warehouse, qualified


def query(wh: Warehouse, schema: str, table: str, sql: str, params=None) -> pd.DataFrame:
    """``sql`` (with ``{t}`` for the table) or an empty frame when the table is missing."""
    if not wh.table_exists(schema, table):
        return pd.DataFrame()
    return wh.query_df(sql.format(t=qualified(schema, table)), params)


def figure(width: float = 8.0, height: float = 3.4):
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height), dpi=90)
    return fig, ax


def png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def empty_chart(title: str, why: str) -> str:
    fig, ax = figure(8.0, 1.6)
    ax.set_axis_off()
    ax.set_title(title, loc="left", fontsize=11)
    ax.text(0.5, 0.4, why, ha="center", va="center", fontsize=10, color="#666")
    return png(fig)


class Page:
    """The page's sections and charts, in order."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def section(self, title: str, text: str = "") -> None:
        self.parts.append(f"<h2>{html.escape(title)}</h2>")
        if text:
            self.parts.append(f"<p>{html.escape(text)}</p>")

    def chart(self, name: str, png: str, caption: str, has_data: bool) -> None:
        self.parts.append(
            f'<figure><img class="chart" id="chart-{name}" data-has-data="{str(has_data).lower()}" '
            f'alt="{html.escape(caption)}" src="data:image/png;base64,{png}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )

    def html(self, text: str) -> None:
        self.parts.append(text)


def date_axis(ax, dates) -> None:
    """Readable day ticks; a short range (e.g. one run) is padded to a week either side."""
    from matplotlib.dates import AutoDateLocator, DateFormatter

    days = pd.to_datetime(pd.Series(list(dates))).dropna()
    if not days.empty and (days.max() - days.min()) < pd.Timedelta(days=7):
        ax.set_xlim(days.min() - pd.Timedelta(days=7), days.max() + pd.Timedelta(days=7))
    ax.xaxis.set_major_locator(AutoDateLocator(maxticks=8))
    ax.xaxis.set_major_formatter(DateFormatter("%Y-%m-%d"))


def line_chart(page, name, title, frame, x, y, series, ylabel, why_empty, percent=False) -> None:
    if frame.empty:
        page.chart(name, empty_chart(title, why_empty), title, False)
        return
    fig, ax = figure()
    for key, group in frame.groupby(series, sort=True):
        group = group.sort_values(x)
        ax.plot(group[x], group[y], marker="o", markersize=3, label=str(key))
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left", fontsize=11)
    if percent:
        from matplotlib.ticker import PercentFormatter

        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(fontsize=7, ncol=3)
    date_axis(ax, frame[x])
    fig.autofmt_xdate()
    page.chart(name, png(fig), title, True)

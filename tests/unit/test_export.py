"""The email export's shapes (issue 17): long and wide, URLs, the control group apart."""

from __future__ import annotations

import pandas as pd
import pytest

from shopguide.consent import read_suppression_files
from shopguide.export import control_path, long_format, wide_format
from shopguide.privacy import customer_hash
from shopguide.schema import PUBLISHED_TABLES
from support import make_settings

TEMPLATE = "https://shop.test/p/{article_id}?utm=email"


def _list() -> pd.DataFrame:
    rows = [
        ("2024-06-30", "c1", "25-34", 1, "0000000001", "Tee", "T-shirt", "Black", 9.5, "new in", "treatment"),
        ("2024-06-30", "c1", "25-34", 2, "0000000002", "Jeans", "Trousers", "Blue", 30.0, "similar", "treatment"),
        ("2024-06-30", "c2", "65+", 1, "0000000003", "Coat", "Coat", "Grey", 80.0, "trending", "control"),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=list(PUBLISHED_TABLES["email_campaign_list"]))


def test_wide_has_one_row_per_recipient_with_merge_fields():
    wide = wide_format(_list(), top_n=3, url_template=TEMPLATE)
    assert list(wide["customer_id"]) == ["c1", "c2"]
    c1 = wide.iloc[0]
    assert c1["items"] == 2 and c1["item_2_name"] == "Jeans" and c1["item_1_price"] == 9.5
    assert c1["item_1_url"] == "https://shop.test/p/0000000001?utm=email"
    assert pd.isna(c1["item_3_article_id"])  # fewer items than N: empty merge fields
    assert [c for c in wide.columns if c.startswith("item_3_")] == [
        "item_3_article_id", "item_3_name", "item_3_price", "item_3_reason", "item_3_url",
    ]  # fmt: skip


def test_long_keeps_the_list_columns_and_adds_the_url():
    long = long_format(_list(), TEMPLATE)
    assert list(long.columns) == [*PUBLISHED_TABLES["email_campaign_list"], "product_url"]
    assert long["product_url"].iloc[2].endswith("/0000000003?utm=email")


def test_control_file_sits_beside_the_send_file(tmp_path):
    settings = make_settings(tmp_path)
    assert control_path(settings, "/x/email.parquet", "2024-06-30") == "/x/email.control.parquet"
    assert control_path(settings, "-", "2024-06-30").endswith(
        "exports/email_2024-06-30.control.csv"
    )


def test_suppression_files_by_id_or_hashed_key(tmp_path):
    pd.DataFrame({"customer_id": ["c1", " "], "suppressed_on": ["2024-06-01", None]}).to_csv(
        tmp_path / "suppressions_a.csv", index=False
    )
    pd.DataFrame({"customer_hash": [customer_hash("c2").upper()]}).to_parquet(
        tmp_path / "suppressions_b.parquet"
    )
    rows, files = read_suppression_files(tmp_path)
    assert len(files) == 2
    assert set(rows["customer_hash"]) == {customer_hash("c1"), customer_hash("c2")}
    assert rows.set_index("customer_hash").loc[customer_hash("c1"), "customer_id"] == "c1"
    (tmp_path / "suppressions_bad.csv").write_text("email\nx@y\n")
    with pytest.raises(ValueError, match="customer_id or customer_hash"):
        read_suppression_files(tmp_path)


def test_cli_parses_export_formats_and_suppress():
    from shopguide.cli import build_parser

    args = build_parser().parse_args(["export", "email", "--format", "wide", "--out", "-"])
    assert (args.fmt, args.out, args.date) == ("wide", "-", None)
    assert build_parser().parse_args(["suppress", "c1", "c2"]).customer_ids == ["c1", "c2"]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["export", "email", "--format", "xml", "--out", "x.csv"])

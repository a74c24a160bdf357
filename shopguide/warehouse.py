"""The warehouse adapter: the only code that differs between DuckDB and PostgreSQL.

Every pipeline step talks to the warehouse through :class:`Warehouse`: connect,
bulk-load a pandas frame replacing a key range, query into pandas, export a query to
Parquet, and publish a run's tables in one transaction. Connections are short-lived
so that dbt (which opens its own) and the pipeline never hold the DuckDB file at once.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pandas as pd

from shopguide.faults import failpoint
from shopguide.settings import Settings


def qident(name: str) -> str:
    """Quote an SQL identifier (schema, table or column) safely for both engines."""
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, table: str) -> str:
    return f"{qident(schema)}.{qident(table)}"


class Warehouse:
    """Common behaviour; subclasses provide the connection and the bulk paths."""

    kind: str = ""
    param: str = "?"

    # -- connection -------------------------------------------------------------
    def connect(self):  # pragma: no cover - abstract
        raise NotImplementedError

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        con = self.connect()
        try:
            self._begin(con)
            yield con
            con.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                con.rollback()
            raise
        finally:
            con.close()

    def _begin(self, con) -> None:
        pass

    # -- simple statements ------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        """Run one statement in a transaction of its own."""
        with self.transaction() as con:
            self.execute_in(con, sql, params)

    def execute_in(self, con, sql: str, params: Sequence[Any] | None = None) -> None:
        """Run one statement on ``con``, inside the caller's transaction (see
        :meth:`transaction`). ``params`` fill the engine's placeholders (:attr:`param`)."""
        con.execute(sql, params or ())

    def query_df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        raise NotImplementedError

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        df = self.query_df(sql, params)
        return None if df.empty else df.iat[0, 0]

    def table_exists(self, schema: str, table: str) -> bool:
        sql = (
            "SELECT count(*) FROM information_schema.tables "
            f"WHERE table_schema = {self.param} AND table_name = {self.param}"
        )
        return bool(self.scalar(sql, [schema, table]))

    def columns(self, schema: str, table: str) -> list[str]:
        sql = (
            "SELECT column_name FROM information_schema.columns "
            f"WHERE table_schema = {self.param} AND table_name = {self.param} "
            "ORDER BY ordinal_position"
        )
        return list(self.query_df(sql, [schema, table])["column_name"])

    def ensure_table(self, con, schema: str, table: str, columns: dict[str, str]) -> None:
        """Create the schema and table when missing (columns: name -> SQL type)."""
        self.execute_in(con, f"CREATE SCHEMA IF NOT EXISTS {qident(schema)}")
        cols = ", ".join(f"{qident(c)} {t}" for c, t in columns.items())
        self.execute_in(con, f"CREATE TABLE IF NOT EXISTS {qualified(schema, table)} ({cols})")

    # -- bulk paths -------------------------------------------------------------
    def replace_rows(
        self,
        schema: str,
        table: str,
        df: pd.DataFrame,
        columns: dict[str, str],
        key_column: str,
        keys: Iterable[Any],
        con=None,
    ) -> int:
        """Delete the rows whose ``key_column`` is in ``keys``, then insert ``df``.

        Runs in one transaction (or in ``con``'s), so a load that is repeated or
        interrupted never leaves the key range half-written. Returns rows inserted.
        """
        if con is None:
            with self.transaction() as own:
                return self.replace_rows(schema, table, df, columns, key_column, keys, own)
        self.ensure_table(con, schema, table, columns)
        keys = list(dict.fromkeys(keys))
        target = qualified(schema, table)
        # Chunked IN lists keep statements small on both engines.
        for start in range(0, len(keys), 5000):
            chunk = keys[start : start + 5000]
            marks = ", ".join([self.param] * len(chunk))
            self.execute_in(
                con, f"DELETE FROM {target} WHERE {qident(key_column)} IN ({marks})", chunk
            )
        frame = df.reindex(columns=list(columns))
        self._bulk_insert(con, schema, table, frame)
        return len(frame)

    def insert_frame(self, con, schema: str, table: str, df: pd.DataFrame) -> None:
        """Append ``df``'s rows to the existing table ``schema.table`` on ``con``, inside the
        caller's transaction; the frame's columns name the table's columns."""
        self._bulk_insert(con, schema, table, df)

    def _bulk_insert(self, con, schema: str, table: str, df: pd.DataFrame) -> None:
        """The engine's bulk path behind :meth:`insert_frame`."""
        raise NotImplementedError

    def export_parquet(self, sql: str, path: str, params: Sequence[Any] | None = None) -> int:
        """Write the result of ``sql`` to one Parquet file at ``path`` (local or lake URI)."""
        df = self.query_df(sql, params)
        write_parquet(df, path)
        return len(df)

    # -- publication ------------------------------------------------------------
    def publish(
        self,
        run_date: date,
        tables: dict[str, dict[str, str]],
        candidate_schema: str,
        published_schema: str,
        extra: Sequence[tuple[str, Sequence[Any]]] = (),
        finish: Callable[[Any], Any] | None = None,
    ) -> dict[str, int]:
        """Swap the run's rows of every table in ``tables`` from candidates to published.

        One transaction: readers see the previous complete run or the new complete
        run, never a mix. ``extra`` statements (e.g. the ``pipeline_runs`` row) join
        the same transaction; then ``finish(con)`` (retention, views, comments, grants).
        """
        counts: dict[str, int] = {}
        with self.transaction() as con:
            for table, columns in tables.items():
                self.ensure_table(con, published_schema, table, columns)
                target = qualified(published_schema, table)
                cols = ", ".join(qident(c) for c in columns)
                self.execute_in(
                    con,
                    f"DELETE FROM {target} WHERE run_date = CAST({self.param} AS DATE)",
                    [run_date],
                )
                self.execute_in(
                    con,
                    f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {qualified(candidate_schema, table)} "
                    f"WHERE run_date = CAST({self.param} AS DATE)",
                    [run_date],
                )
                counts[table] = self._rowcount_for(con, target, run_date)
                failpoint("publish")
            for sql, params in extra:
                self.execute_in(con, sql, params)
            if finish is not None:
                finish(con)
        return counts

    def _rowcount_for(self, con, target: str, run_date: date) -> int:
        raise NotImplementedError

    # -- dbt ----------------------------------------------------------------------
    def dbt_target(self) -> str:
        return self.kind

    def dbt_env(self) -> dict[str, str]:
        """Environment variables the dbt profile reads (see dbt/profiles.yml)."""
        raise NotImplementedError


class DuckDBWarehouse(Warehouse):
    kind = "duckdb"
    param = "?"

    def __init__(self, path: Path):
        self.path = Path(path)

    def connect(self):
        import duckdb

        self.path.parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(str(self.path))

    def _begin(self, con) -> None:
        con.execute("BEGIN TRANSACTION")

    def query_df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        con = self.connect()
        try:
            return con.execute(sql, params or ()).df()
        finally:
            con.close()

    def _bulk_insert(self, con, schema: str, table: str, df: pd.DataFrame) -> None:
        if df.empty:
            return
        if not (isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1):
            df = df.reset_index(drop=True)  # DuckDB's pandas scan fails on e.g. a reversed index
        con.register("_shopguide_frame", df)
        try:
            cols = ", ".join(qident(c) for c in df.columns)
            con.execute(
                f"INSERT INTO {qualified(schema, table)} ({cols}) SELECT {cols} FROM _shopguide_frame"
            )
        finally:
            con.unregister("_shopguide_frame")

    def export_parquet(self, sql: str, path: str, params: Sequence[Any] | None = None) -> int:
        if "://" in path and not path.startswith("file://"):
            return super().export_parquet(sql, path, params)
        local = path.removeprefix("file://")
        Path(local).parent.mkdir(parents=True, exist_ok=True)
        con = self.connect()
        try:
            con.execute(
                f"COPY ({sql}) TO '{local.replace(chr(39), chr(39) * 2)}' (FORMAT parquet)",
                params or (),
            )
            return con.execute(
                f"SELECT count(*) FROM read_parquet('{local.replace(chr(39), chr(39) * 2)}')"
            ).fetchone()[0]
        finally:
            con.close()

    def _rowcount_for(self, con, target: str, run_date: date) -> int:
        return con.execute(
            f"SELECT count(*) FROM {target} WHERE run_date = CAST(? AS DATE)", [run_date]
        ).fetchone()[0]

    def dbt_env(self) -> dict[str, str]:
        return {"SHOPGUIDE_DUCKDB_PATH": str(self.path)}


class PostgresWarehouse(Warehouse):
    kind = "postgres"
    param = "%s"

    def __init__(self, url: str):
        self.url = url.replace("postgres://", "postgresql://", 1)

    def connect(self):
        import psycopg

        return psycopg.connect(self.url)

    def query_df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        with self.connect() as con, con.cursor() as cur:
            cur.execute(sql, params or None)
            if cur.description is None:
                return pd.DataFrame()
            names = [d.name for d in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=names)

    def _bulk_insert(self, con, schema: str, table: str, df: pd.DataFrame) -> None:
        if df.empty:
            return
        cols = ", ".join(qident(c) for c in df.columns)
        buf = io.StringIO()
        df.to_csv(buf, index=False, header=False, na_rep="\\N", date_format="%Y-%m-%d %H:%M:%S")
        buf.seek(0)
        with con.cursor() as cur:
            copy_sql = (
                f"COPY {qualified(schema, table)} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
            )
            with cur.copy(copy_sql) as copy:
                while chunk := buf.read(1 << 20):
                    copy.write(chunk)

    def _rowcount_for(self, con, target: str, run_date: date) -> int:
        with con.cursor() as cur:
            cur.execute(
                f"SELECT count(*) FROM {target} WHERE run_date = CAST(%s AS DATE)", [run_date]
            )
            return cur.fetchone()[0]

    def dbt_env(self) -> dict[str, str]:
        parts = urlparse(self.url)
        return {
            "SHOPGUIDE_PG_HOST": parts.hostname or "127.0.0.1",
            "SHOPGUIDE_PG_PORT": str(parts.port or 5432),
            "SHOPGUIDE_PG_USER": unquote(parts.username or os.environ.get("USER", "postgres")),
            "SHOPGUIDE_PG_PASSWORD": unquote(parts.password or ""),
            "SHOPGUIDE_PG_DATABASE": parts.path.lstrip("/") or "postgres",
        }


def write_parquet(df: pd.DataFrame, path: str) -> None:
    """Write a frame to a local path or any URI pyarrow's filesystems understand."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    if "://" in path and not path.startswith("file://"):
        from pyarrow import fs

        filesystem, inner = fs.FileSystem.from_uri(path)
        filesystem.create_dir(inner.rsplit("/", 1)[0], recursive=True)
        pq.write_table(table, inner, filesystem=filesystem)
        return
    local = Path(path.removeprefix("file://"))
    local.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, local)


def read_parquet(path: str) -> pd.DataFrame:
    """Read a Parquet file or a Spark output directory from a local path or lake URI."""
    import pyarrow.parquet as pq

    if "://" in path and not path.startswith("file://"):
        from pyarrow import fs

        filesystem, inner = fs.FileSystem.from_uri(path)
        return pq.read_table(inner, filesystem=filesystem).to_pandas()
    return pq.read_table(path.removeprefix("file://")).to_pandas()


def delete_path(path: str) -> None:
    """Remove a file or directory (local path or lake URI); a missing one is fine."""
    if "://" in path and not path.startswith("file://"):
        from pyarrow import fs

        filesystem, inner = fs.FileSystem.from_uri(path)
        info = filesystem.get_file_info(inner)
        if info.type == fs.FileType.Directory:
            filesystem.delete_dir(inner)
        elif info.type == fs.FileType.File:
            filesystem.delete_file(inner)
        return
    import shutil

    local = Path(path.removeprefix("file://"))
    if local.is_dir():
        shutil.rmtree(local)
    elif local.exists():
        local.unlink()


def open_warehouse(settings: Settings) -> Warehouse:
    """The adapter for ``SHOPGUIDE_WAREHOUSE``: a DuckDB file or a PostgreSQL URL."""
    if settings.warehouse_kind == "postgres":
        return PostgresWarehouse(settings.warehouse_url)
    return DuckDBWarehouse(settings.duckdb_path)

"""The GX project: the File Data Context in ``expectations/``, (re)written from the checks
on every run (data sources, suites, validation definitions, checkpoints), and the
``python -m shopguide.validation --sync`` command."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from shopguide.settings import Settings
from shopguide.validation.checks import OUTPUT_CHECKS, RAW_CHECKS, Check
from shopguide.validation.messages import EXAMPLES

# Dataframes read from the warehouse: every DuckDB run, and the PostgreSQL runs whose run
# date has no rows (the name is kept: it is part of the versioned project's ids).
PANDAS_SOURCE = "shopguide_duckdb_frames"
POSTGRES_SOURCE = "shopguide_postgres"
DATA_DOCS_SITE = "shopguide_data_docs"
# Variables great_expectations.yml refers to; their values come from the settings.
VAR_RESULTS_DIR = "SHOPGUIDE_GX_VALIDATIONS_DIR"
VAR_DATA_DOCS_DIR = "SHOPGUIDE_GX_DATA_DOCS_DIR"
VAR_POSTGRES_URL = "SHOPGUIDE_GX_POSTGRES_URL"

GX_YML = f"""\
# Great Expectations project of shopguide (GX 1.x File Data Context).
# Suites, validation definitions, checkpoints and data sources are regenerated from
# shopguide/validation.py on every run: change them there, not here.
# ${{...}} values are supplied at run time from the shopguide settings
# (shopguide.validation.runtime_environment), so no path or credential is versioned.
config_version: 4.0
analytics_enabled: false
progress_bars:
  globally: false
config_variables_file_path: uncommitted/config_variables.yml
plugins_directory:
stores:
  expectations_store:
    class_name: ExpectationsStore
    store_backend:
      class_name: TupleFilesystemStoreBackend
      base_directory: expectations/
  validation_results_store:
    class_name: ValidationResultsStore
    store_backend:
      class_name: TupleFilesystemStoreBackend
      base_directory: ${{{VAR_RESULTS_DIR}}}
  checkpoint_store:
    class_name: CheckpointStore
    store_backend:
      class_name: TupleFilesystemStoreBackend
      suppress_store_backend_id: true
      base_directory: checkpoints/
  validation_definition_store:
    class_name: ValidationDefinitionStore
    store_backend:
      class_name: TupleFilesystemStoreBackend
      base_directory: validation_definitions/
expectations_store_name: expectations_store
validation_results_store_name: validation_results_store
checkpoint_store_name: checkpoint_store
data_docs_sites:
  {DATA_DOCS_SITE}:
    class_name: SiteBuilder
    show_how_to_buttons: false
    store_backend:
      class_name: TupleFilesystemStoreBackend
      base_directory: ${{{VAR_DATA_DOCS_DIR}}}
    site_index_builder:
      class_name: DefaultSiteIndexBuilder
      # The index lists the newest results only (~2 weeks of nightly runs), so building
      # it stays fast after years of runs; older result pages stay in the site.
      validation_results_limit: 100
fluent_datasources: {{}}
"""


def runtime_environment(settings: Settings) -> dict[str, str]:
    """Values of the ``${...}`` variables in great_expectations.yml for these settings."""
    reports = Path(settings.reports_dir).resolve()
    env = {
        VAR_RESULTS_DIR: str(reports / "gx_validations"),
        VAR_DATA_DOCS_DIR: str(reports / "data_docs"),
    }
    if settings.warehouse_kind == "postgres":
        env[VAR_POSTGRES_URL] = settings.warehouse_url.replace("postgres://", "postgresql://", 1)
    return env


_contexts: dict[tuple, Any] = {}
_lock = threading.Lock()


def get_context(settings: Settings):
    """The GX File Data Context for these settings, set up from code; one per process."""
    key = (
        str(Path(settings.expectations_dir).resolve()),
        str(settings.reports_dir),
        settings.warehouse_url,
    )
    with _lock:
        context = _contexts.get(key)
        if context is None:
            context = _build_context(settings)
            _contexts[key] = context
        return context


def _build_context(settings: Settings):
    import great_expectations as gx

    root = Path(settings.expectations_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    _write_project_config(root / "great_expectations.yml")
    context = gx.get_context(
        mode="file", context_root_dir=str(root), runtime_environment=runtime_environment(settings)
    )
    _sync(context, settings)
    return context


def _write_project_config(path: Path) -> None:
    """Make great_expectations.yml say what GX_YML says, keeping GX's own entries.

    GX adds the data sources (``fluent_datasources``) and ``data_context_id``; everything
    else (stores, Data Docs site, flags) comes from GX_YML, so a change there reaches the
    versioned file on the next run.
    """
    import yaml

    wanted = yaml.safe_load(GX_YML)
    if not path.exists():
        path.write_text(GX_YML)
        return
    current = yaml.safe_load(path.read_text()) or {}
    if {k: v for k, v in current.items() if k not in ("fluent_datasources", "data_context_id")} == {
        k: v for k, v in wanted.items() if k != "fluent_datasources"
    }:
        return
    kept = {k: current[k] for k in ("fluent_datasources", "data_context_id") if current.get(k)}
    path.write_text(
        GX_YML.replace("fluent_datasources: {}\n", "")
        + (yaml.safe_dump(kept, sort_keys=False) if kept else "fluent_datasources: {}\n")
    )


# How a suite's rows reach GX: "frame" (a pandas dataframe read from the warehouse; DuckDB,
# and PostgreSQL when the run date has no rows) or "postgres" (validated in place).
FRAME = "frame"
POSTGRES = "postgres"


def _definition_name(check: Check, engine: str) -> str:
    return f"{check.suite}__{engine}"


def _sync(context, settings: Settings) -> None:
    """Write data source, suites, validation definitions and checkpoints from the code."""
    import great_expectations as gx

    # Reuse what is already there when it matches the code: add_or_update would mint new
    # ids, and the versioned JSON would change on every run without any real change.
    sources = {
        FRAME: _existing_source(context, PANDAS_SOURCE)
        or context.data_sources.add_pandas(PANDAS_SOURCE)
    }
    if settings.warehouse_kind == "postgres":
        source = _existing_source(context, POSTGRES_SOURCE)
        url = f"${{{VAR_POSTGRES_URL}}}"  # resolved from the runtime environment, never stored
        if source is None or str(getattr(source, "connection_string", "")) != url:
            source = context.data_sources.add_or_update_postgres(
                POSTGRES_SOURCE, connection_string=url
            )
        sources[POSTGRES] = source

    for check in RAW_CHECKS + OUTPUT_CHECKS:
        suite = _suite(context, check)
        for engine, source in sources.items():
            batch_definition = _batch_definition(source, check, engine)
            name = _definition_name(check, engine)
            definition = _existing(context.validation_definitions, name)
            if definition is None or (definition.batch_definition.id, definition.suite.id) != (
                batch_definition.id,
                suite.id,
            ):
                definition = context.validation_definitions.add_or_update(
                    gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
                )
            # No Data Docs action per checkpoint: each would rebuild the site's index over
            # every stored validation; _validate builds the docs once for all its checks.
            checkpoint = gx.Checkpoint(
                name=name,
                validation_definitions=[definition],
                actions=[],
                result_format=_result_format(check),
            )
            existing = _existing(context.checkpoints, name)
            if existing is None or _checkpoint_json(existing) != _checkpoint_json(checkpoint):
                context.checkpoints.add_or_update(checkpoint)
    # ValidationDefinition.add_or_update saves a copy of the data source that has lost its
    # link to the context (GX 1.24), and batches of it then fail with "Missing
    # DataContext": put the context's own data sources back.
    for source in sources.values():
        context.data_sources.all().set_datasource(source.name, source)


def _existing(factory, name: str):
    """The stored object, or None. Unchanged objects are not rewritten: another run reading
    the project at that moment would otherwise see a half-written file."""
    from great_expectations.exceptions import DataContextError

    try:
        return factory.get(name)
    except DataContextError:
        return None


def _checkpoint_json(checkpoint) -> str:
    import json

    config = checkpoint.dict()
    config.pop("id", None)
    return json.dumps(config, sort_keys=True, default=str)


def _result_format(check: Check) -> dict:
    result_format: dict[str, Any] = {
        "result_format": "SUMMARY",
        "partial_unexpected_count": EXAMPLES,
    }
    if check.key_columns:
        # GX then reports these columns of the first bad rows, e.g. which customer.
        result_format["unexpected_index_column_names"] = list(check.key_columns)
    return result_format


def _existing_source(context, name: str):
    try:
        # get() (not .all().get()) hands out the source wired to this context.
        return context.data_sources.get(name)
    except KeyError:
        return None


def _suite(context, check: Check):
    import great_expectations as gx
    from great_expectations.exceptions import DataContextError

    wanted = check.expectations()
    try:
        existing = context.suites.get(check.suite)
    except DataContextError:
        existing = None
    if existing is not None and _configs(existing.expectations) == _configs(wanted):
        return existing
    return context.suites.add_or_update(gx.ExpectationSuite(name=check.suite, expectations=wanted))


def _configs(expectations: list) -> list:
    """What an expectation checks, without its generated id."""
    out = []
    for expectation in expectations:
        config = expectation.configuration.to_json_dict()
        config.pop("id", None)
        out.append(config)
    return out


def _batch_definition(source, check: Check, engine: str):
    """Get or create the asset and batch definition; reuse keeps their ids (and JSON) stable."""
    name, kind = ("run_date", "daily") if check.run_column else ("whole", "whole")
    asset = next((a for a in source.assets if a.name == check.suite), None)
    if asset is not None and engine == POSTGRES and not _same_asset(asset, check):
        source.delete_asset(check.suite)
        asset = None
    if asset is None:
        if engine == POSTGRES:
            # Query assets even for plain tables: GX checks that a table asset's table exists
            # when it is added, and the candidates do not exist yet when validate_raw runs.
            asset = source.add_query_asset(check.suite, query=check.source_sql)
        else:
            asset = source.add_dataframe_asset(check.suite)
    existing = next((b for b in asset.batch_definitions if b.name == name), None)
    if existing is not None:
        return existing
    if engine == FRAME:
        # The run's rows are selected in DuckDB; GX gets exactly those as one dataframe.
        return asset.add_batch_definition_whole_dataframe(name)
    if kind == "daily":
        # validate_batchable=False: GX would read a sample row now, before the table exists.
        return asset.add_batch_definition_daily(
            name, column=check.run_column, validate_batchable=False
        )
    return asset.add_batch_definition_whole_table(name)


def _same_asset(asset, check: Check) -> bool:
    return getattr(asset, "query", None) == check.source_sql


def main(argv: list[str] | None = None) -> int:
    """``python -m shopguide.validation --sync``: regenerate the GX project from the code."""
    import argparse

    from shopguide.settings import load_settings

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument(
        "--sync", action="store_true", help="write suites, validation definitions and checkpoints"
    )
    args = parser.parse_args(argv)
    if not args.sync:
        parser.print_help()
        return 2
    settings = load_settings()
    get_context(settings)
    print(f"GX project in {settings.expectations_dir} is in step with shopguide/validation.py")
    return 0

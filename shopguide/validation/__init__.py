"""Great Expectations checks on the raw loads and on the tables about to be published.

``validate_raw`` runs after ingest, ``validate_outputs`` after the ``publish_candidates``
models are built and before publication. Both raise :class:`ValidationError` when any
expectation fails, which stops the run before anything reaches ``published``.

The GX project is a File Data Context in ``expectations/`` (``settings.expectations_dir``):
suites, validation definitions, checkpoints and the data sources are (re)written from
the code here on every run, so the versioned JSON always matches the code. Run-time
paths and credentials never enter the versioned files: ``great_expectations.yml`` refers
to them as ``${SHOPGUIDE_GX_...}`` variables that each context receives through its
runtime environment (validation results and Data Docs go under ``settings.reports_dir``,
the PostgreSQL URL is ``settings.warehouse_url``).

DuckDB is not a GX data source, so on DuckDB the run's rows are read into pandas and
validated as dataframes; on PostgreSQL GX's Postgres data source validates the tables in
place (queries partitioned by the run date).

Modules: ``checks`` (the suites and the rows each validates), ``project`` (the GX
context and project sync, ``--sync``), ``run`` (``validate_raw``, ``validate_outputs``,
checkpoint runs) and ``messages`` (``describe_failure`` and value formatting).
"""

from __future__ import annotations

from shopguide.validation.checks import (
    EMAIL_QUERY,
    FINITE,
    OUTPUT_CHECKS,
    RATIO_METRICS,
    RAW_CHECKS,
    Check,
)
from shopguide.validation.messages import (
    EXAMPLES,
    describe_failure,
)
from shopguide.validation.project import (
    DATA_DOCS_SITE,
    FRAME,
    GX_YML,
    PANDAS_SOURCE,
    POSTGRES,
    POSTGRES_SOURCE,
    VAR_DATA_DOCS_DIR,
    VAR_POSTGRES_URL,
    VAR_RESULTS_DIR,
    get_context,
    main,
    runtime_environment,
)
from shopguide.validation.run import (
    ValidationError,
    validate_outputs,
    validate_raw,
)

__all__ = [
    "Check",
    "DATA_DOCS_SITE",
    "EMAIL_QUERY",
    "EXAMPLES",
    "FINITE",
    "FRAME",
    "GX_YML",
    "OUTPUT_CHECKS",
    "PANDAS_SOURCE",
    "POSTGRES",
    "POSTGRES_SOURCE",
    "RATIO_METRICS",
    "RAW_CHECKS",
    "VAR_DATA_DOCS_DIR",
    "VAR_POSTGRES_URL",
    "VAR_RESULTS_DIR",
    "ValidationError",
    "describe_failure",
    "get_context",
    "main",
    "runtime_environment",
    "validate_outputs",
    "validate_raw",
]

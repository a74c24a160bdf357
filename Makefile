# shopguide: `make demo` and `make test` each set up .venv on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed

export SHOPGUIDE_HOME ?= $(CURDIR)/var
export AIRFLOW_HOME ?= $(SHOPGUIDE_HOME)/airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export PYSPARK_PYTHON := $(BIN)/python
export PATH := $(BIN):$(PATH)

# The demo shop: a year of history ending on DEMO_RUN_DATE; Airflow's logical date is
# the next day (the DAG processes its data interval, the previous day).
DEMO_RUN_DATE ?= 2024-06-30
DEMO_LOGICAL_DATE ?= 2024-07-01
DEMO_CUSTOMERS ?= 4000
DEMO_ARTICLES ?= 1500
DEMO_DAYS ?= 365

.PHONY: help install demo test bench lint clean java

help:
	@echo "make demo   - set up .venv, generate a shop, run the nightly DAG end to end, print where outputs are"
	@echo "make test   - set up .venv and run the whole test suite"
	@echo "make bench  - speed and quality benchmarks -> benchmarks/results.md"
	@echo "make lint   - ruff (lint + format check)"

java:
	@command -v java >/dev/null 2>&1 || { echo "Java 17+ is required by Spark 4 and was not found: install a JDK 17 (e.g. apt-get install openjdk-17-jre-headless) and retry." >&2; exit 1; }
	@v=$$(java -version 2>&1 | awk -F'"' '/version/ {print $$2}' | cut -d. -f1); \
	 if [ "$${v:-0}" -lt 17 ] 2>/dev/null; then echo "Java $$v found, but Spark 4 needs Java 17+: install a JDK 17 and put it first on PATH." >&2; exit 1; fi

$(STAMP): pyproject.toml constraints.txt | java
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade uv
	$(BIN)/uv pip install --python $(BIN)/python --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	@start=$$(date +%s); \
	set -e; \
	rm -rf "$(SHOPGUIDE_HOME)/warehouse" "$(SHOPGUIDE_HOME)/lake"; \
	$(BIN)/shopguide generate --out "$(SHOPGUIDE_HOME)/data/generated" --customers $(DEMO_CUSTOMERS) \
	    --articles $(DEMO_ARTICLES) --days $(DEMO_DAYS) --end-date $(DEMO_RUN_DATE) --seed 42; \
	$(BIN)/airflow db migrate > "$(SHOPGUIDE_HOME)/airflow-db-migrate.log" 2>&1 || { tail -20 "$(SHOPGUIDE_HOME)/airflow-db-migrate.log"; exit 1; }; \
	echo "running: airflow dags test shopguide_nightly $(DEMO_LOGICAL_DATE) (log: $(SHOPGUIDE_HOME)/demo-dag.log)"; \
	progress="$${SHOPGUIDE_REPORTS:-$(SHOPGUIDE_HOME)/reports}/progress.log"; \
	mkdir -p "$$(dirname "$$progress")"; : > "$$progress"; \
	tail -n +1 -F "$$progress" 2>/dev/null & follow=$$!; \
	$(BIN)/airflow dags test shopguide_nightly $(DEMO_LOGICAL_DATE) > "$(SHOPGUIDE_HOME)/demo-dag.log" 2>&1 \
	    || { kill $$follow; grep -E "ERROR|failed|Error" "$(SHOPGUIDE_HOME)/demo-dag.log" | tail -15; exit 1; }; \
	sleep 1; kill $$follow; \
	$(BIN)/shopguide summary --date $(DEMO_RUN_DATE); \
	$(BIN)/shopguide export email --date $(DEMO_RUN_DATE) --format wide --out "$(SHOPGUIDE_HOME)/exports/email_$(DEMO_RUN_DATE).csv"; \
	echo "demo finished in $$(( $$(date +%s) - start )) s"; \
	echo "run report (open in a browser): $$($(BIN)/shopguide report --date $(DEMO_RUN_DATE))"

# Two pytest workers, one per core. Tests go out one at a time, the longest modules first
# (tests/durations.json, see tests/conftest.py), so the suite does not end on one long
# test running alone.
TEST_WORKERS ?= 2

test: install
	$(BIN)/pytest -n $(TEST_WORKERS) --maxschedchunk 1 --durations=25

bench: install
	$(BIN)/uv pip install --python $(BIN)/python --quiet -c constraints.txt -e '.[dev,bench]'
	$(BIN)/python benchmarks/run.py

lint: install
	$(BIN)/ruff check shopguide spark_jobs dags tests benchmarks
	$(BIN)/ruff format --check shopguide spark_jobs dags tests benchmarks

clean:
	rm -rf var dbt/target dbt/logs expectations/uncommitted

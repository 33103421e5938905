"""Engines that run the controls over a snapshot (data already collected) instead of fetching from AWS.

``snapshot`` reads the Parquet snapshot layout into DuckDB and runs controls there; ``spark`` runs them on
Apache Spark. Both implement ``apigw_sql.controls.runner.ControlEngine``, so the one runner judges their rows.
"""

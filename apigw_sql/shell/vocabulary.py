"""The SQL words the shell knows before DuckDB is loaded: keywords to highlight and complete, and the
functions an auditor reaches for most (DuckDB's full list is added once a connection exists)."""
from __future__ import annotations

KEYWORDS: tuple[str, ...] = tuple("""
SELECT FROM WHERE AND OR NOT IN IS NULL LIKE ILIKE SIMILAR GLOB BETWEEN EXISTS AS ON USING JOIN LEFT RIGHT INNER
OUTER FULL CROSS NATURAL POSITIONAL ASOF ANTI SEMI LATERAL GROUP BY ORDER ASC DESC NULLS FIRST LAST LIMIT OFFSET
HAVING QUALIFY WINDOW OVER PARTITION ROWS RANGE UNBOUNDED PRECEDING FOLLOWING CURRENT ROW DISTINCT ALL ANY SOME
UNION EXCEPT INTERSECT WITH RECURSIVE CASE WHEN THEN ELSE END CAST TRY_CAST TRUE FALSE INTERVAL FILTER
CREATE OR REPLACE TEMP TEMPORARY TABLE VIEW MACRO DROP IF ALTER INSERT INTO VALUES UPDATE SET DELETE COPY TO
EXPORT IMPORT DATABASE DESCRIBE SUMMARIZE SHOW TABLES EXPLAIN ANALYZE PIVOT UNPIVOT EXCLUDE COLUMNS STRUCT MAP
VARIABLE RESET PRAGMA INSTALL LOAD ATTACH DETACH USE RETURNING TABLESAMPLE USING SAMPLE
VARCHAR BIGINT INTEGER DOUBLE BOOLEAN TIMESTAMP DATE JSON
""".split())

FUNCTIONS: tuple[str, ...] = tuple("""
count sum min max avg any_value arg_max arg_min bool_and bool_or count_if string_agg list array_agg histogram
coalesce ifnull nullif greatest least length lower upper trim starts_with ends_with contains regexp_matches
regexp_extract regexp_replace split_part string_split concat concat_ws replace substring strftime strptime
date_diff date_trunc now current_date age epoch unnest list_contains list_has_any list_filter list_transform
len array_length list_distinct list_sort flatten json_extract json_extract_string json_keys json_type
json_array_length json_contains json_valid json_object json_group_array json_group_object to_json from_json
getvariable read_csv read_json read_parquet glob
""".split())

"""Usage monitoring: API Gateway access logs and CloudWatch metrics as tables.

- ``stages``: which stages log where, in which format; ``formats``: a format template parsed once;
- ``record_sql``: the SQL that maps one stage's records to columns; ``log_files``: --access-logs files;
- ``access_log``: aws_api_gateway_access_log and aws_api_gateway_access_log_source;
- ``metrics``: aws_api_gateway_metric.
"""

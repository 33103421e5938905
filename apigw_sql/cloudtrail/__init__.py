"""CloudTrail tables: trails, event data stores, LookupEvents, and log files read by DuckDB.

- ``trail``: aws_cloudtrail_trail (shadow trails, per-trail calls once in the home region).
- ``lake``: aws_cloudtrail_event_data_store.
- ``lookup``: aws_cloudtrail_lookup_event (time window and one lookup attribute pushed to the API).
- ``layout``: the S3 delivery layout of log files (keys, day folders, file timestamps).
- ``log_files``: aws_cloudtrail_log, DuckDB over local or S3 log files, narrowed to the day folders.
- ``event``: aws_cloudtrail_event, the one table activity controls read, from logs or LookupEvents.
- ``synthetic``: realistic generated log files for tests and benchmarks.
"""

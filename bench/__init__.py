"""The benchmark of issue 6: SCIM and SAML at 100,000 people per organisation, with budgets.

Run it with ``make bench`` (or ``python -m bench --help``); bench/README.md explains the figures.
"""

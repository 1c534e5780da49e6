"""The web console: server-rendered pages for the people who work items and run the accounts, over
the same application layer as the API and the CLI. Mounted into the API's application (web.py)."""

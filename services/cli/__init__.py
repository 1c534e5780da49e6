"""The ``postroom`` command: run services, manage accounts and items, operate the pipeline."""

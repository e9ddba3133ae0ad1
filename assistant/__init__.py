"""The product core: settings, dialogue engine, pipeline and the `aisle` command."""

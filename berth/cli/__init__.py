"""The `berth` command line: click, one module per noun, each parses and calls a service."""

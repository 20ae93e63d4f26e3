"""The newswatch pipeline graph, its options, the run summary and the CLI.

The CLI (``pipelines.cli``) is imported on its own so that ``newswatch --help``
answers without loading Beam; import the builder from ``pipelines.pipeline``.
"""

__all__: list[str] = []

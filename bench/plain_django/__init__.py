"""The baseline of bench/serve.py: a plain Django project whose one view lists 40 rows of a table, no caching."""

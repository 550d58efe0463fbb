"""Moving a newsroom: export and import as newline-delimited JSON, and backups.

`lines` is the file format, `export` writes it, `import_` reads it back (idempotently,
one transaction per batch), `backup` copies a SQLite database while it serves.
"""

from cms.portability import backup, export, import_, lines

__all__ = ["backup", "export", "import_", "lines"]

"""Ingest: containers (bytes -> raw records) and formats (raw record -> Dialogue)."""

from dialogdata.ingest.files import discover
from dialogdata.ingest.formats import detect_format, get_format
from dialogdata.ingest.reader import FileReport, Reader, parse_record, read
from dialogdata.ingest.records import Reject

__all__ = [
    "FileReport",
    "Reader",
    "Reject",
    "detect_format",
    "discover",
    "get_format",
    "parse_record",
    "read",
]

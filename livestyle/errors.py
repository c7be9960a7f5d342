"""Errors a user can fix: the CLI prints them as one line and exits with code 2."""

from __future__ import annotations


class LivestyleError(Exception):
    """A problem with the user's input or environment, with a message that says what to do."""

    exit_code = 2


class WeightsError(LivestyleError):
    """A weights file that is missing, corrupt or does not match the network."""


class SourceError(LivestyleError):
    """A camera, video file or stream that cannot be opened or read."""


class OutputError(LivestyleError):
    """An output path that cannot be written."""

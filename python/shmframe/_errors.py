"""The exceptions shmframe raises: all derive from :class:`Error`.

Each also derives from the built-in exception that fits, so code that already
catches ``FileNotFoundError``, ``ValueError`` or ``TypeError`` keeps working.
"""

from typing import Optional


class Error(Exception):
    """Base class of every shmframe error."""


class NoStreamError(Error, FileNotFoundError):
    """No stream of that name exists (no writer has created it, or it closed)."""


class WriterExistsError(Error):
    """The stream already has a live writer; ``pid`` is that writer's process id."""

    pid: Optional[int] = None


class ForeignOwnerError(Error, PermissionError):
    """The segment belongs to another user who is not in ``trusted_uids``."""


class CorruptSegmentError(Error):
    """The segment file or a frame in it is not valid: it is refused, never trusted."""


class StarvedError(Error):
    """No consistent copy could be had: the writer kept overwriting the frame."""


class InvalidArgumentError(Error, ValueError):
    """A stream name, option or environment setting is not acceptable."""


class FrameValueError(Error, ValueError):
    """A frame (or ``out=`` array) has the right type but an unusable shape, size or layout."""


class FrameTypeError(Error, TypeError):
    """A frame (or ``out=`` array) is not an array of a type the format can hold."""


class StreamOSError(Error, OSError):
    """An operating-system call failed (permissions, file system, memory map)."""


# Shown as shmframe.NoStreamError etc., where users import them from.
for _class in list(globals().values()):
    if isinstance(_class, type) and issubclass(_class, Error):
        _class.__module__ = "shmframe"

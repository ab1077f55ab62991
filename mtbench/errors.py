"""One exception type for every user-facing failure.

The CLI prints ``str(error)`` as a single line and exits non-zero, so every message
must name the offending file or value and say how to fix it.
"""


class MtbenchError(Exception):
    """A user-facing error whose message is one actionable line."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split("\n")))

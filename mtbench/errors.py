"""One exception type for every user-facing failure.

The CLI prints ``str(error)`` as a single line and exits non-zero, so every message
must name the offending file or value and say how to fix it.
"""


class MtbenchError(Exception):
    """A user-facing error whose message is one actionable line."""

    def __init__(self, message: str, exit_code: int = 2, quiet: bool = False) -> None:
        super().__init__(" ".join(message.split("\n")))
        self.exit_code = exit_code
        # quiet: the reason was already printed (by a child process); only exit.
        self.quiet = quiet

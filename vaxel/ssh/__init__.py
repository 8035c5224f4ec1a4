"""The SSH console: a front door for admins and managers (docs/operations.md).

It calls ``vaxel/services`` only (never ``vaxel/http``): the console and the API carry out
the same operations and write the same audit trail.
"""

from .commands import COMMANDS, Console, ConsoleError
from .server import SshConsole

__all__ = ["COMMANDS", "Console", "ConsoleError", "SshConsole"]

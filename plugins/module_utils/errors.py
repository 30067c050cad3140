# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The root of every error a module of the collection reports."""


class DatastoresError(Exception):
    """A failure to report as the module's message; ``result`` holds what is known so far."""

    def __init__(self, message, result=None):
        super().__init__(message)
        self.result = result or {}

"""The one error family: every message says what was received, what was expected, and the fix."""

from __future__ import annotations


class ShapesmithError(ValueError):
    """A user-facing error.

    ``str(err)`` is the whole message: ``what`` (what was received and why it is wrong),
    then ``expected`` and ``fix`` when given, and the ``where`` context added at the
    public boundary (layer, input shape).
    """

    def __init__(self, what: str, *, expected: str | None = None, fix: str | None = None,
                 where: str | None = None):
        self.what = what
        self.expected = expected
        self.fix = fix
        self.where = where
        super().__init__(self._compose())

    def _compose(self) -> str:
        parts = [f"{self.where}: {self.what}" if self.where else self.what]
        if self.expected:
            parts.append(f"expected {self.expected}")
        if self.fix:
            parts.append(f"fix: {self.fix}")
        return "; ".join(parts)

    def located(self, where: str) -> ShapesmithError:
        """The same error with its context (layer, input) in front, unless it already has one."""
        if self.where is None:
            self.where = where
            self.args = (self._compose(),)
        return self


class ParseError(ShapesmithError):
    """Text (a layer, a shape, a dim) that shapesmith cannot read."""


class ConfigError(ShapesmithError):
    """A layer configuration the framework itself rejects."""


class ShapeMismatchError(ShapesmithError):
    """An input shape a layer cannot take."""

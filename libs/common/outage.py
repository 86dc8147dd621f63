"""A dependency that keeps failing is told to a person once, not once per use: when it starts (after
`quiet_failures` in a row, so a blip or a peer still starting up stays quiet), again every `repeat_seconds`
while it lasts, and when it ends. Every failure is still counted by its caller."""

import logging
import time


class Outage:
    """Tracks one dependency's failures and successes; logs through `logger`, naming it `what`."""

    def __init__(
        self, logger: logging.Logger, what: str, *, quiet_failures: int = 1, repeat_seconds: float = 60.0
    ) -> None:
        self._logger = logger
        self._what = what
        self._quiet_failures = quiet_failures
        self._repeat_seconds = repeat_seconds
        self.failures = 0
        self._since: float | None = None
        self._logged_at: float | None = None

    def failed(self, reason: str) -> None:
        """One more failure; `reason` says what went wrong (never a secret)."""
        now = time.monotonic()
        self.failures += 1
        if self._since is None:
            self._since = now
        if self.failures < self._quiet_failures:
            return
        if self._logged_at is None or now - self._logged_at >= self._repeat_seconds:
            self._logged_at = now
            self._logger.warning("%s unavailable: %s (%d failures in a row)", self._what, reason, self.failures)

    def succeeded(self) -> None:
        """The dependency answered: the outage, if one was told, is over."""
        if not self.failures:  # the common case, on every use
            return
        if self._logged_at is not None and self._since is not None:
            seconds = time.monotonic() - self._since
            self._logger.warning("%s reachable again after %.1f s (%d failures)", self._what, seconds, self.failures)
        self.failures, self._since, self._logged_at = 0, None, None

"""Shutdown state and keep-alive connection ages: what decides `Connection: close`."""

import time

Client = tuple[str, int]


class Lifecycle:
    """Draining starts at SIGTERM: readiness fails and every response closes its connection."""

    def __init__(self) -> None:
        self.draining = False


class ConnectionAges:
    """Age of each keep-alive connection, keyed by the peer's (host, port).

    ASGI exposes no connection object, but a live TCP connection's peer address is unique, so it
    identifies the connection. An entry is dropped when we close its connection, or when it has been
    idle longer than the server's keep-alive timeout (the server closed it), so a later connection
    that reuses the port starts a fresh clock.
    """

    def __init__(self, max_age: float, idle_timeout: float) -> None:
        self.max_age = max_age
        self.idle_timeout = idle_timeout
        self._seen: dict[Client, list[float]] = {}  # client -> [first request, last request]
        self._next_prune = 0.0

    def expired(self, client: Client | None, now: float | None = None) -> bool:
        """Record a request on `client`'s connection; True once it is older than max_age."""
        if client is None:
            return False
        now = time.monotonic() if now is None else now
        if now >= self._next_prune:
            self._prune(now)
        entry = self._seen.get(client)
        if entry is None:
            self._seen[client] = [now, now]
            return False
        entry[1] = now
        if now - entry[0] >= self.max_age:
            del self._seen[client]  # this response closes it; the next request is a new connection
            return True
        return False

    def _prune(self, now: float) -> None:
        stale = now - self.idle_timeout - 1
        self._seen = {client: entry for client, entry in self._seen.items() if entry[1] >= stale}
        self._next_prune = now + 1

"""Stubs of lumengate._core.gemini: the native HTTP/1.1 transport of the Gemini client."""

# (id, kind, status, headers, data, failure, message, body_started)
_Event = tuple[int, str, int, list[tuple[str, str]], bytes, str, str, bool]

class Transport:
    def __init__(
        self,
        max_connections: int = 100,
        ca_file: str = "",
        proxy_host: str = "",
        proxy_port: int = 0,
        stream_queue_chunks: int = 64,
    ) -> None: ...
    def submit(
        self,
        scheme: str,
        host: str,
        port: int,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
        stream: bool,
        connect: float,
        first_byte: float,
        idle: float,
        total: float,
    ) -> int: ...
    def cancel(self, request_id: int) -> None: ...
    def consumed(self, request_id: int, count: int) -> None: ...
    def drain(self) -> list[_Event]: ...
    def wait(self, timeout: float) -> list[_Event]: ...
    def fileno(self) -> int: ...
    def stats(self) -> dict[str, int]: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...

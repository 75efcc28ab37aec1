"""A health endpoint for load balancers and replicas: GET /healthz answers 200 while the bot serves, 503 while it stops."""

from __future__ import annotations

import asyncio
import json

from bot.telegram.services import Services


async def start_health_server(services: Services, host: str, port: int) -> asyncio.Server:
    """Serve /healthz on host:port (a bare HTTP/1.1 responder: one request per connection)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), timeout=5)
            path = request.split(b" ")[1] if request.count(b" ") >= 2 else b""
            if path.split(b"?")[0] != b"/healthz":
                status, body = "404 Not Found", {"error": "not found"}
            else:
                docs, chunks = await asyncio.to_thread(services.catalog.counts)
                ok = not services.stopping
                status = "200 OK" if ok else "503 Service Unavailable"
                body = {"status": "ok" if ok else "stopping", "articles": docs, "passages": chunks,
                        "questions_waiting": services.answerer.waiting()}
            payload = json.dumps(body).encode()
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
                         "Connection: close\r\n\r\n".encode() + payload)
            await writer.drain()
        except (asyncio.TimeoutError, ConnectionError):
            pass
        except Exception:  # a damaged index: report unhealthy rather than drop the connection
            writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)

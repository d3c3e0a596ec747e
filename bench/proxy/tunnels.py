#!/usr/bin/env python3
"""Helpers for bench/proxy_bench.sh (stdlib only).

  tunnels.py freeport                       print a free 127.0.0.1 TCP port
  tunnels.py hold-server PORT MAX_SECONDS   accept on 127.0.0.1:PORT, read and discard, keep every
                                            socket open until the peer closes or MAX_SECONDS pass
  tunnels.py idle-tunnels PROXY_PORT TARGET_PORT N PID [HOLD_SECONDS]
                                            open N CONNECT tunnels through 127.0.0.1:PROXY_PORT to
                                            127.0.0.1:TARGET_PORT, hold them idle, print VmRSS of PID
                                            before / while held / after close, as key=value lines
"""
import asyncio
import os
import resource
import socket
import sys
import time


def freeport():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    print(port)


def hold_server(port, max_seconds):
    async def handle(reader, writer):
        try:
            while await reader.read(65536):
                pass
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=2048)
        async with server:
            await asyncio.sleep(max_seconds)  # bounded lifetime; the orchestrator kills it sooner

    asyncio.run(main())


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def idle_tunnels(proxy_port, target_port, n, pid, hold_seconds):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 1024), hard))
    print(f"rss_baseline_kib={vm_rss_kib(pid)}", flush=True)
    request = (f"CONNECT 127.0.0.1:{target_port} HTTP/1.1\r\n"
               f"Host: 127.0.0.1:{target_port}\r\n\r\n").encode()
    socks = []
    failed = 0
    deadline = time.monotonic() + 300  # the whole opening phase is bounded
    t0 = time.monotonic()
    for _ in range(n):
        if time.monotonic() > deadline:
            break
        s = socket.create_connection(("127.0.0.1", proxy_port), timeout=10)
        try:
            s.sendall(request)
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 8192:
                chunk = s.recv(4096)
                if not chunk:
                    break
                head += chunk
            if head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200"):
                socks.append(s)
            else:
                failed += 1
                if failed == 1:
                    print(f"first_failure={head[:120]!r}", file=sys.stderr)
                s.close()
        except OSError as e:
            failed += 1
            if failed == 1:
                print(f"first_failure={e}", file=sys.stderr)
            s.close()
    open_seconds = time.monotonic() - t0
    print(f"tunnels_open={len(socks)}", flush=True)
    print(f"tunnels_failed={failed}", flush=True)
    print(f"open_seconds={open_seconds:.2f}", flush=True)
    # Hold idle; take the highest of a few readings (allocator settling).
    peak = 0
    end = time.monotonic() + hold_seconds
    while time.monotonic() < end:
        peak = max(peak, vm_rss_kib(pid))
        time.sleep(0.25)
    print(f"rss_held_kib={peak}", flush=True)
    for s in socks:
        s.close()
    time.sleep(1.0)
    print(f"rss_after_close_kib={vm_rss_kib(pid)}", flush=True)


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    cmd = sys.argv[1]
    if cmd == "freeport":
        freeport()
    elif cmd == "hold-server":
        hold_server(int(sys.argv[2]), float(sys.argv[3]))
    elif cmd == "idle-tunnels":
        hold = float(sys.argv[6]) if len(sys.argv) > 6 else 3.0
        idle_tunnels(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), hold)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()

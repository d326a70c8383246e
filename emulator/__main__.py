"""`python -m emulator --host 127.0.0.1 --port 8900 [--latency-ms N] [--token-delay-ms N]`."""
from __future__ import annotations

import argparse

from emulator.server import make_server


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--latency-ms", type=int, default=0, help="delay before every response")
    parser.add_argument("--token-delay-ms", type=int, default=0, help="delay between stream events")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()
    make_server(args.host, args.port, args.latency_ms, args.token_delay_ms, args.log_level).run()


if __name__ == "__main__":
    main()

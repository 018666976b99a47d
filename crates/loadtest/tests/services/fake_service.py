#!/usr/bin/env python3
"""A misbehaving service for oomguard's end-to-end tests (and an example of gating a
service written in another language).

  fake_service.py --port PORT --mode crash        answers /healthz, dies on the first /movies
  fake_service.py --port PORT --mode never-ready  never listens
  fake_service.py --port PORT --mode hang         answers /healthz, never answers /movies
  fake_service.py --port PORT --mode detach --pid-file F
                                                  answers every GET with 200 after starting a
                                                  detached grandchild (setsid), pid in F
"""
import argparse
import http.server
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=["crash", "never-ready", "hang", "detach"], required=True)
    parser.add_argument("--pid-file")
    args = parser.parse_args()

    if args.mode == "never-ready":
        print("starting up... (this service never listens)", file=sys.stderr, flush=True)
        time.sleep(3600)
        return

    if args.mode == "detach":
        import subprocess

        child = subprocess.Popen(["sleep", "300"], start_new_session=True)
        with open(args.pid_file, "w", encoding="ascii") as f:
            f.write(str(child.pid))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path == "/healthz" or args.mode == "detach":
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")
                return
            if args.mode == "hang":
                print("hanging on " + self.path, file=sys.stderr, flush=True)
                time.sleep(3600)
                return
            print("fatal: segfault-like crash while enriching movies", file=sys.stderr, flush=True)
            sys.stderr.flush()
            import os

            os._exit(42)

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening on http://127.0.0.1:{args.port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

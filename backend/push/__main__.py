"""`python -m backend.push keys`: print a new VAPID key pair as settings lines.

The private key goes into VAPID_PRIVATE_KEY (keep it secret, keep it stable: every browser's
subscription is bound to its public key); VAPID_PUBLIC_KEY is printed for reference only, the
server derives it.
"""

from __future__ import annotations

import argparse
import sys

from backend.push.keys import generate, private_key_b64, public_key_b64


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.push")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("keys", help="print a new VAPID key pair (.env lines)")
    parser.parse_args(argv)
    key = generate()
    sys.stdout.write(f"VAPID_PRIVATE_KEY={private_key_b64(key)}\n")
    sys.stdout.write(f"# VAPID_PUBLIC_KEY={public_key_b64(key)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

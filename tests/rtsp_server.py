"""A real RTSP server for the camera tests: GStreamer's RTSP server serving one H.264 MP4.

Run with the system interpreter (``/usr/bin/python3``): Debian's ``python3-gi`` binds to it, not
to the project's virtual environment. Prints ``ready`` on stdout once it listens; serves until
killed. Usage: ``rtsp_server.py PORT MOUNT CLIP.mp4`` (MOUNT like ``/cam``).
"""

from __future__ import annotations

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main(argv: list[str]) -> int:
    port, mount, clip = argv[1], argv[2], argv[3]
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    # Not shared: every client (and every reconnect) gets its own pipeline, playing the clip from
    # the start in real time, as a camera sends it; a clip longer than the test needs never ends.
    factory.set_launch(
        f"( filesrc location={clip} ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )
    factory.set_shared(False)
    server.get_mount_points().add_factory(mount, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{port}", file=sys.stderr, flush=True)
        return 1
    print("ready", flush=True)
    GLib.MainLoop().run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
